"""The one definition of a valid record (pydantic models)."""

from torchcell.schema.records import (
    PERTURBATION_KINDS,
    Dataset,
    Environment,
    Experiment,
    Gene,
    Perturbation,
    PerturbationKind,
    allele_identity,
    buckets,
    environment_id,
    experiment_id,
    experiment_ids,
    experiment_key,
    genotype_key,
    perturbation_key,
)

__all__ = [
    "PERTURBATION_KINDS",
    "Dataset",
    "Environment",
    "Experiment",
    "Gene",
    "Perturbation",
    "allele_identity",
    "PerturbationKind",
    "buckets",
    "environment_id",
    "experiment_id",
    "experiment_ids",
    "experiment_key",
    "genotype_key",
    "perturbation_key",
]
