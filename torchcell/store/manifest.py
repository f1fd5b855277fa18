"""The manifest beside a dataset's shards: what was asked, what was written, how to check it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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

    def write(self, root: Path) -> Path:
        return write_json(Path(root) / MANIFEST, self.__dict__, indent=2, sort_keys=True)

    @classmethod
    def read(cls, root: Path) -> Manifest:
        path = Path(root) / MANIFEST
        if not path.exists():
            raise TorchCellError(f"{root} has no {MANIFEST}: materialize a dataset there first")
        try:
            return cls(**json.loads(path.read_text()))
        except json.JSONDecodeError as err:
            raise TorchCellError(
                f"{path}, line {err.lineno}: not valid JSON ({err.msg}); materialize the dataset "
                "again (tc materialize-dataset SPEC --out DIR)"
            ) from None
        except TypeError as err:
            raise TorchCellError(f"{path} is not a manifest this code reads ({err})") from None


def read_genes(root: Path) -> list[str]:
    return json.loads((Path(root) / GENES).read_text())
