"""Training configs (YAML under pipeline/train/), validated by pydantic."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from torchcell.errors import TorchCellError


class TrainConfig(BaseModel):
    """What to train on, how, and where to write the results.

    Relative ``dataset`` and ``output`` paths are resolved against the working directory.
    """

    model_config = ConfigDict(extra="forbid")

    dataset: Path = Field(description="a materialized dataset directory (has manifest.json)")
    output: Path = Field(description="where checkpoint, metrics and plots go")
    model: str = Field("gene_set", pattern="^gene_set$")
    hidden: int = Field(64, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    epochs: int = Field(20, ge=1)
    batch_size: int = Field(64, ge=1)
    lr: float = Field(3e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    seed: int = 0
    labels: list[str] = Field(default_factory=lambda: ["fitness", "gene_interaction"], min_length=1)
    split: Literal["random", "held_out_genes", "held_out_pairs"] = "held_out_genes"
    val_fraction: float = Field(0.15, gt=0, lt=0.5)
    test_fraction: float = Field(0.15, gt=0, lt=0.5)
    device: str = "cpu"
    num_workers: int = Field(0, ge=0)

    @classmethod
    def from_yaml(cls, path: Path, **overrides) -> TrainConfig:
        path = Path(path)
        if not path.exists():
            raise TorchCellError(f"training config {path} does not exist")
        data = yaml.safe_load(path.read_text()) or {}
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise TorchCellError(f"training config {path} is invalid:\n{err}") from None
