"""Dataset specs (YAML under pipeline/datasets/) and the Cypher query each one stands for."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from torchcell.errors import TorchCellError

Label = Literal["fitness", "fitness_std", "gene_interaction", "gene_interaction_p_value"]


class DatasetSpec(BaseModel):
    """Which experiments to materialize and which labels to keep.

    Example (pipeline/datasets/costanzo2016_sample.yaml)::

        name: costanzo2016_sample
        datasets: [costanzo2016_smf, costanzo2016_dmf]
        min_genes: 1
        max_genes: 2
        labels: [fitness, gene_interaction]
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    datasets: list[str] = Field(min_length=1, description="Dataset node names")
    min_genes: int = Field(1, ge=1, le=3)
    max_genes: int = Field(3, ge=1, le=3)
    labels: list[Label] = Field(
        default_factory=lambda: ["fitness", "gene_interaction"], min_length=1
    )
    temperatures: list[float] | None = Field(None, description="keep only these temperatures (°C)")

    @model_validator(mode="after")
    def _range(self) -> DatasetSpec:
        if self.min_genes > self.max_genes:
            raise ValueError("min_genes must not exceed max_genes")
        return self

    @classmethod
    def from_yaml(cls, path: Path) -> DatasetSpec:
        path = Path(path)
        if not path.exists():
            raise TorchCellError(f"dataset spec {path} does not exist")
        try:
            return cls.model_validate(yaml.safe_load(path.read_text()))
        except ValidationError as err:
            raise TorchCellError(f"dataset spec {path} is invalid:\n{err}") from None

    def cypher(self) -> str:
        """The query: one row per experiment, perturbations ordered by gene id, ordered by id."""
        labels = ", ".join(f"e.{label} AS {label}" for label in self.labels)
        temperature = "AND v.temperature IN $temperatures " if self.temperatures else ""
        return (
            "MATCH (e:Experiment)-[:IN_DATASET]->(d:Dataset) WHERE d.name IN $datasets\n"
            "MATCH (e)-[:UNDER]->(v:Environment) WHERE true " + temperature + "\n"
            "MATCH (e)-[p:PERTURBS]->(g:Gene)\n"
            "WITH e, v, g, p ORDER BY g.id\n"
            "WITH e, v, collect(g.id) AS genes, collect(p.kind) AS kinds\n"
            "WHERE size(genes) >= $min_genes AND size(genes) <= $max_genes\n"
            f"RETURN e.id AS id, genes, kinds, v.id AS environment, {labels}\n"
            "ORDER BY id"
        )

    def parameters(self) -> dict:
        return {
            "datasets": self.datasets,
            "min_genes": self.min_genes,
            "max_genes": self.max_genes,
            "temperatures": self.temperatures or [],
        }
