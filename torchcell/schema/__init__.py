"""The one definition of a valid record (pydantic models)."""

from torchcell.schema.records import (
    PERTURBATION_KINDS,
    Dataset,
    Environment,
    Experiment,
    Gene,
    Perturbation,
    PerturbationKind,
    bucket,
    environment_id,
    experiment_id,
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
    "PerturbationKind",
    "bucket",
    "environment_id",
    "experiment_id",
    "genotype_key",
    "perturbation_key",
]
