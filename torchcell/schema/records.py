"""Pydantic models for the records that enter the graph.

Parsers work on whole columns (polars) for speed; these models are the contract those columns
must meet. They are applied at the boundaries: to a sample of every parsed table and to every
record a user builds by hand. ``experiment_key`` (the text) and ``experiment_ids`` (its hash)
are the one place an experiment's identity is defined; the parsers build the same text
column-wise, and the sample check compares their ids with ``Experiment.id``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from hashlib import blake2b
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PerturbationKind = Literal["deletion", "temperature_sensitive", "damp", "suppressor", "allele"]
PERTURBATION_KINDS: tuple[str, ...] = (
    "deletion",
    "temperature_sensitive",
    "damp",
    "suppressor",
    "allele",
)
"""Allele kinds, in the order records index them. ``allele``: a named allele whose kind the
source does not give (an E-MAP allele table's point mutants, e.g. ``POL30-79``)."""

EXPERIMENT_LABELS: tuple[str, ...] = (
    "fitness",
    "fitness_std",
    "gene_interaction",
    "gene_interaction_p_value",
    "emap_score",
)
"""The labels an Experiment holds (parsers' columns, Experiment node properties, the labels
materialization reads); merged datasets derive their ``*_se`` labels from these."""
VALUE_LABELS: tuple[str, ...] = ("fitness", "gene_interaction", "emap_score")
"""The measured values among them: an experiment needs at least one."""

SYSTEMATIC_NAME = r"^[A-Za-z0-9][A-Za-z0-9\-\.()]*$"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Gene(_Record):
    """A genomic feature with a systematic name (an ORF, a tRNA gene, ...)."""

    id: str = Field(pattern=SYSTEMATIC_NAME, description="systematic name, e.g. YAL001C")
    sgdid: str | None = Field(None, pattern=r"^S\d{9}$", description="SGD id, e.g. S000000001")
    name: str | None = Field(None, description="standard name, e.g. TFC3")
    feature_type: str
    qualifier: str | None = None
    chromosome: str | None = Field(
        None,
        description="'1'..'16', '17' (mitochondrion) or '2-micron' (plasmid), as SGD writes it",
    )
    start: int | None = Field(None, ge=1)
    end: int | None = Field(None, ge=1)
    strand: Literal["W", "C"] | None = None
    aliases: list[str] = Field(default_factory=list)


class Perturbation(_Record):
    gene: str = Field(pattern=SYSTEMATIC_NAME)
    kind: PerturbationKind
    allele: str | None = None
    strain: str | None = Field(None, description="the screen's strain id, e.g. YAL002W_dma23")


class Environment(_Record):
    media: str
    temperature: float = Field(ge=0, le=60, description="degrees Celsius")

    @property
    def id(self) -> str:
        return environment_id(self.media, self.temperature)


class Dataset(_Record):
    name: str
    doi: str | None = None
    version: str | None = None


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class Experiment(_Record):
    """One measurement of one genotype in one environment."""

    dataset: str
    perturbations: list[Perturbation] = Field(min_length=1)
    environment: Environment
    fitness: float | None = Field(None, ge=0)
    fitness_std: float | None = Field(None, ge=0)
    gene_interaction: float | None = None
    gene_interaction_p_value: float | None = Field(None, ge=0, le=1)

    @field_validator(
        "fitness", "fitness_std", "gene_interaction", "gene_interaction_p_value", "emap_score"
    )
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        return _finite_or_none(value)

    @model_validator(mode="after")
    def _has_a_label(self) -> Experiment:
        if self.fitness is None and self.gene_interaction is None and self.emap_score is None:
            raise ValueError(
                "an experiment needs at least one label (fitness, gene_interaction or emap_score)"
            )
        return self

    emap_score: float | None = Field(
        None, description="E-MAP S-score (its own scale; never mixed with SGA ε)"
    )

    @property
    def genotype(self) -> str:
        return genotype_key(
            [(p.gene, p.kind, p.allele) for p in self.perturbations], self.environment.id
        )

    @property
    def id(self) -> str:
        perturbations = ";".join(
            sorted(perturbation_key(p.gene, p.kind, p.allele, p.strain) for p in self.perturbations)
        )
        return experiment_id(self.dataset, perturbations, self.environment.id)


def allele_identity(gene: str, kind: str, allele: str | None) -> str:
    """``YAL041W:temperature_sensitive:cdc24-3``: one perturbed gene as a genotype sees it.

    A deletion's allele is the gene itself (``YAL001C:deletion``), whatever the strain calls it;
    every other kind is told apart by its allele name, case-folded (the tsa and tsq strains of
    ``cdc24-3`` are one allele; ``cdc24-3`` and ``cdc24-11`` are two).
    """
    if kind == "deletion":
        return f"{gene}:{kind}"
    return f"{gene}:{kind}:{(allele or '').lower()}"


def genotype_key(perturbations: list[tuple[str, str, str | None]], environment: str) -> str:
    """``YAL001C:deletion;YAL041W:temperature_sensitive:cdc24-3@SGA@30C``: what makes replicates.

    Replicates are the same genes with the same alleles (``allele_identity``) in the same
    environment, whatever dataset or strain measured them. This is the one definition:
    experiment nodes store it as ``genotype``, materialization merges on it, and splits and
    baselines read the same alleles from the stored records.
    """
    return ";".join(sorted(allele_identity(*p) for p in perturbations)) + "@" + environment


def buckets(keys: Iterable[str]) -> np.ndarray:
    """Stable 32-bit hashes (as int64) of genotype keys; datasets are partitioned by ranges of them."""
    digest = b"".join(blake2b(k.encode("utf-8"), digest_size=4).digest() for k in keys)
    return np.frombuffer(digest, dtype=">u4").astype(np.int64)


def environment_id(media: str, temperature: float) -> str:
    """``YPD@30C``: media and temperature, the identity of an environment."""
    return f"{media}@{temperature:g}C"


def perturbation_key(gene: str, kind: str, allele: str | None, strain: str | None) -> str:
    """One perturbation as text: ``gene:kind:allele:strain`` (empty where unknown)."""
    return f"{gene}:{kind}:{allele or ''}:{strain or ''}"


def experiment_key(dataset: str, perturbations: str, environment: str) -> str:
    """The text an experiment id hashes: ``dataset|perturbations|environment``.

    ``perturbations`` is the experiment's ``perturbation_key``s, sorted and joined with ``;``.
    Vectorized parsers build the same text column-wise and hash it with ``experiment_ids``.
    """
    return f"{dataset}|{perturbations}|{environment}"


def experiment_id(dataset: str, perturbations: str, environment: str) -> str:
    """Stable id of an experiment: a hash of dataset, perturbations and environment id.

    The same measurement listed twice gets the same id, so a duplicate is seen, not loaded twice.
    """
    return experiment_ids([experiment_key(dataset, perturbations, environment)])[0]


def experiment_ids(keys: Iterable[str]) -> list[str]:
    """Ids (128-bit blake2b, hex) of many ``experiment_key`` texts at once."""
    return [blake2b(k.encode("utf-8"), digest_size=16).hexdigest() for k in keys]
