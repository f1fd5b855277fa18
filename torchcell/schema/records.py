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

PerturbationKind = Literal["deletion", "temperature_sensitive", "damp", "suppressor"]
PERTURBATION_KINDS: tuple[str, ...] = ("deletion", "temperature_sensitive", "damp", "suppressor")

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

    @field_validator("fitness", "fitness_std", "gene_interaction", "gene_interaction_p_value")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        return _finite_or_none(value)

    @model_validator(mode="after")
    def _has_a_label(self) -> Experiment:
        if self.fitness is None and self.gene_interaction is None:
            raise ValueError("an experiment needs at least one label (fitness or gene_interaction)")
        return self

    @property
    def genotype(self) -> str:
        return genotype_key([(p.gene, p.kind) for p in self.perturbations], self.environment.id)

    @property
    def id(self) -> str:
        perturbations = ";".join(
            sorted(perturbation_key(p.gene, p.kind, p.allele, p.strain) for p in self.perturbations)
        )
        return experiment_id(self.dataset, perturbations, self.environment.id)


def genotype_key(genes_and_kinds: list[tuple[str, str]], environment: str) -> str:
    """``YAL001C:deletion;YBR002W:damp@SGA@30C``: what makes measurements replicates.

    Replicates are the same genes with the same allele kinds in the same environment (a
    deletion and a ts allele of one gene are different genotypes), whatever dataset or strain.
    """
    return ";".join(sorted(f"{g}:{k}" for g, k in genes_and_kinds)) + "@" + environment


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
