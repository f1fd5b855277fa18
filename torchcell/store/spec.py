"""Dataset specs (YAML under pipeline/datasets/) and the Cypher query each one stands for."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from torchcell.config_files import read_yaml
from torchcell.errors import TorchCellError
from torchcell.schema import PerturbationKind
from torchcell.store.replicates import STORED_LABELS

BUCKETS = 1 << 32
"""Genotype buckets are 32-bit (``torchcell.schema.buckets``)."""

Label = Literal[
    "fitness",
    "fitness_std",
    "fitness_se",
    "gene_interaction",
    "gene_interaction_p_value",
    "gene_interaction_se",
    "emap_score",
]
"""Stored labels (``torchcell.store.replicates.STORED_LABELS``) and the standard errors of
merged means (``*_se``). ``emap_score`` is the E-MAP S-score, a scale of its own."""
SGA_SCALE = {"gene_interaction", "gene_interaction_p_value", "gene_interaction_se"}


class DatasetSpec(BaseModel):
    """Which experiments to materialize, which labels to keep, and how to treat replicates.

    Replicates are measurements of one genotype (the same genes with the same alleles, see
    ``torchcell.schema.genotype_key``) in one environment. ``replicates``: ``keep_all`` stores every measurement; ``mean``
    merges each genotype's measurements into one record (labels averaged, their errors
    combined); ``prefer`` keeps the measurements of the dataset named in ``prefer`` where
    it has the genotype and merges the others as ``mean`` does.

    Example (pipeline/datasets/costanzo2016_sample.yaml)::

        name: costanzo2016_sample
        datasets: [costanzo2016_smf, costanzo2016_dmf]
        max_genes: 2
        labels: [fitness, fitness_std, gene_interaction, gene_interaction_p_value]
        replicates: mean
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[A-Za-z0-9_.\-]+$", description="the dataset's name (its default folder name)"
    )
    datasets: list[str] = Field(
        min_length=1, description="Dataset node names of the graph (tc db stats lists them)"
    )
    kinds: list[PerturbationKind] | None = Field(
        None, description="keep genotypes whose alleles are all of these kinds"
    )
    min_genes: int = Field(1, ge=1, le=3, description="keep genotypes of at least this many genes")
    max_genes: int = Field(3, ge=1, le=3, description="and of at most this many")
    labels: list[Label] = Field(
        default_factory=lambda: ["fitness", "gene_interaction"],
        min_length=1,
        description="labels to store (an experiment without any of them is left out)",
    )
    media: list[str] | None = Field(None, description="keep only these media (e.g. YPD)")
    temperatures: list[float] | None = Field(None, description="keep only these temperatures (°C)")
    replicates: Literal["keep_all", "mean", "prefer"] = Field(
        "keep_all", description="what to do with replicate measurements (see above)"
    )
    prefer: str | None = Field(None, description="with replicates: prefer, the dataset preferred")

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSpec:
        if self.min_genes > self.max_genes:
            raise ValueError("min_genes must not exceed max_genes")
        if (self.replicates == "prefer") != (self.prefer is not None):
            raise ValueError(
                "replicates: prefer needs `prefer: <dataset>`, and `prefer` needs replicates: prefer"
            )
        if self.prefer is not None and self.prefer not in self.datasets:
            raise ValueError(f"prefer: {self.prefer} is not one of the datasets")
        if "emap_score" in self.labels and SGA_SCALE & set(self.labels):
            raise ValueError(
                "labels mix two interaction scales: emap_score (E-MAP S-score) and "
                f"{sorted(SGA_SCALE & set(self.labels))} (SGA ε); make one dataset per scale"
            )
        # here, not at import: the registry loads every source parser (polars, cobra), which
        # whoever only reads a materialized dataset's spec (training) need not have
        from torchcell.sources.registry import dataset_scales

        scales = dataset_scales(self.datasets)
        if len(set(scales.values())) > 1:
            raise ValueError(
                "datasets mix interaction scales: "
                + ", ".join(f"{d} ({s})" for d, s in sorted(scales.items()))
                + "; E-MAP S-scores and SGA ε are not comparable, make one dataset per scale"
            )
        return self

    @classmethod
    def from_yaml(cls, path: Path) -> DatasetSpec:
        path = Path(path)
        data = read_yaml(path, "dataset spec")
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise TorchCellError(f"dataset spec {path} is invalid:\n{err}") from None

    def cypher(self) -> str:
        """One partition's experiments, streamed in genotype-bucket order.

        A partition is a range ``[$low, $high)`` of the genotype bucket (a 32-bit hash), read
        through the range index on ``Experiment.bucket``; all replicates of a genotype share a
        bucket, so they fall into the same partition and arrive together. The rows stream in
        the index's order and each experiment's genes come from a per-row subquery, so the
        server holds no sort or aggregation of the whole partition (8 concurrent partitions of
        2 M experiments exhausted a 1 GiB server's transaction memory when it did); the reader
        orders each bucket's few rows by genotype (``torchcell.store.materialize``).
        """
        labels = ", ".join(f"e.{label} AS {label}" for label in STORED_LABELS)
        return (
            "MATCH (e:Experiment) USING INDEX e:Experiment(bucket)\n"
            "WHERE e.bucket >= $low AND e.bucket < $high\n"
            "WITH e ORDER BY e.bucket\n"
            "MATCH (e)-[:IN_DATASET]->(d:Dataset) WHERE d.name IN $datasets\n"
            "MATCH (e)-[:UNDER]->(v:Environment)\n"
            "WHERE ($media IS NULL OR v.media IN $media) AND ($temperatures IS NULL OR v.temperature IN $temperatures)\n"
            "CALL (e) {\n"
            "  MATCH (e)-[p:PERTURBS]->(g:Gene)\n"
            "  WITH g, p ORDER BY g.id\n"
            "  RETURN collect(g.id) AS genes, collect(p.kind) AS kinds,\n"
            "         collect(coalesce(p.allele, '')) AS alleles\n"
            "}\n"
            "WITH e, d, v, genes, kinds, alleles\n"
            "WHERE size(genes) >= $min_genes AND size(genes) <= $max_genes\n"
            "  AND ($kinds IS NULL OR all(k IN kinds WHERE k IN $kinds))\n"
            f"RETURN e.bucket AS bucket, e.id AS id, e.genotype AS genotype, d.name AS dataset, genes, kinds, alleles, v.id AS environment, {labels}"
        )

    def parameters(self, shard: int = 0, shards: int = 1) -> dict:
        return {
            "datasets": self.datasets,
            "min_genes": self.min_genes,
            "max_genes": self.max_genes,
            "kinds": self.kinds,
            "media": self.media,
            "temperatures": self.temperatures,
            "low": shard * BUCKETS // shards,
            "high": (shard + 1) * BUCKETS // shards,
        }
