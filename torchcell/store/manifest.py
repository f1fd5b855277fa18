"""The manifest beside a dataset's shards: what was asked, what was written, how to check it."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from torchcell.errors import TorchCellError

MANIFEST = "manifest.json"
GENES = "genes.json"


@dataclass
class LabelStats:
    """Running count, mean and standard deviation (Welford), missing values skipped."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, value: float | None) -> None:
        if value is None:
            return
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (value - self.mean)

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 0.0

    def to_json(self) -> dict:
        return {"count": self.count, "mean": self.mean, "std": self.std}


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
    label_stats: dict = field(default_factory=dict)
    created_at: str = ""
    record_format: int = 1

    def write(self, root: Path) -> Path:
        path = Path(root) / MANIFEST
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.__dict__, indent=2, sort_keys=True))
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, root: Path) -> Manifest:
        path = Path(root) / MANIFEST
        if not path.exists():
            raise TorchCellError(f"{root} has no {MANIFEST}: materialize a dataset there first")
        return cls(**json.loads(path.read_text()))


def read_genes(root: Path) -> list[str]:
    return json.loads((Path(root) / GENES).read_text())
