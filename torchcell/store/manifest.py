"""The manifest beside a dataset's shards: what was asked, what was written, how to check it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from torchcell.checksum import write_json
from torchcell.errors import TorchCellError
from torchcell.store.records import FORMAT as RECORD_FORMAT

MANIFEST = "manifest.json"
GENES = "genes.json"
CELL_GRAPH = "cell_graph.pt"


@dataclass
class Manifest:
    name: str
    spec: dict
    cypher: str
    parameters: dict
    build: dict
    labels: list[str]
    environments: list[str]
    kinds: list[str]
    gene_count: int
    shards: list[dict] = field(default_factory=list)
    count: int = 0
    measurements: int = 0
    label_stats: dict = field(default_factory=dict)
    created_at: str = ""
    cell_graph: dict = field(default_factory=dict)
    record_format: int = RECORD_FORMAT
    files: dict = field(default_factory=dict)
    """sha256 of every other file of the folder (layout.json, genes.json, the shard records)."""

    def write(self, root: Path) -> Path:
        return write_json(Path(root) / MANIFEST, self.__dict__, indent=2, sort_keys=True)

    @classmethod
    def read(cls, root: Path) -> Manifest:
        path = Path(root) / MANIFEST
        if not path.exists():
            raise TorchCellError(f"{root} has no {MANIFEST}: materialize a dataset there first")
        try:
            manifest = cls(**json.loads(path.read_text()))
        except json.JSONDecodeError as err:
            raise TorchCellError(
                f"{path}, line {err.lineno}: not valid JSON ({err.msg}); materialize the dataset "
                "again (tc materialize-dataset SPEC --out DIR)"
            ) from None
        except TypeError as err:
            raise TorchCellError(f"{path} is not a manifest this code reads ({err})") from None
        problem = manifest._type_problem()
        if problem:
            raise TorchCellError(
                f"{path}: {problem}; materialize the dataset again (tc materialize-dataset SPEC --out DIR)"
            )
        return manifest

    def _type_problem(self) -> str | None:
        """The first field whose value has the wrong JSON type, said in words; None if all fit."""
        for name, expected in _FIELD_TYPES.items():
            value = getattr(self, name)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                return f"field '{name}' is {type(value).__name__} {value!r:.40}, not {expected.__name__}"
        for i, shard in enumerate(self.shards):
            if not isinstance(shard, dict):
                return f"shards[{i}] is {type(shard).__name__}, not an object"
            for key, expected in (("file", str), ("sha256", str), ("count", int)):
                if not isinstance(shard.get(key), expected):
                    return f"shards[{i}].{key} is {shard.get(key)!r:.40}, not {expected.__name__}"
        return None


_FIELD_TYPES = {
    f.name: {"str": str, "dict": dict, "int": int, "list[str]": list, "list[dict]": list}[f.type]
    for f in fields(Manifest)
}


def read_genes(root: Path) -> list[str]:
    return json.loads((Path(root) / GENES).read_text())
