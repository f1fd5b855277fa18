"""The column layout every screen parser produces, and the checks shared by all of them.

A screen becomes two frames:

* ``experiments``: one row per measurement, ``EXPERIMENT_COLUMNS``;
* ``perturbations``: one row per perturbed gene of a measurement, ``PERTURBATION_COLUMNS``.

Both carry ``_line`` (and perturbations ``_field``) so that any later check, such as a gene the
genome does not know, can name the file, line and field it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from torchcell.errors import SourceError
from torchcell.schema import Environment, Experiment, Perturbation, environment_id, experiment_id
from torchcell.sources.table import LINE
from torchcell.sources.validate import validate_sample

FIELD = "_field"

LABELS = ["fitness", "fitness_std", "gene_interaction", "gene_interaction_p_value"]
EXPERIMENT_COLUMNS = ["id", "dataset", "media", "temperature", *LABELS]
PERTURBATION_COLUMNS = ["experiment_id", "gene", "kind", "allele", "strain"]


@dataclass(frozen=True)
class ExperimentTables:
    """Experiments and their perturbations parsed from one file."""

    path: Path
    experiments: pl.DataFrame
    perturbations: pl.DataFrame
    unscored: int = 0
    """Rows of the file that hold no measurement (e.g. ``NaN`` pairs), reported by the build."""

    def __post_init__(self) -> None:
        assert self.experiments.columns == [*EXPERIMENT_COLUMNS, LINE], self.experiments.columns
        assert self.perturbations.columns == [*PERTURBATION_COLUMNS, LINE, FIELD], (
            self.perturbations.columns
        )


def perturbation_text(gene: str, kind: str, allele: str, strain: str) -> pl.Expr:
    """Column-wise ``torchcell.schema.perturbation_key``."""
    return pl.concat_str(
        [pl.col(gene), pl.col(kind), pl.col(allele).fill_null(""), pl.col(strain).fill_null("")],
        separator=":",
    )


def assign_ids(table: pl.DataFrame, perturbation_texts: list[str]) -> pl.Series:
    """Experiment ids for ``table`` (needs ``dataset``, ``media``, ``temperature``).

    ``perturbation_texts``: columns holding each perturbation's ``perturbation_text``; they are
    sorted per row, so the id does not depend on which gene was the query.
    """
    envs = {
        (m, t): environment_id(m, t)
        for m, t in table.select("media", "temperature").unique().iter_rows()
    }
    keyed = table.select(
        "dataset",
        pl.concat_list(perturbation_texts).list.sort().list.join(";").alias("perts"),
        pl.struct("media", "temperature")
        .map_elements(lambda s: envs[(s["media"], s["temperature"])], return_dtype=pl.String)
        .alias("env"),
    )
    ids = [experiment_id(d, p, e) for d, p, e in keyed.iter_rows()]
    return pl.Series("id", ids, dtype=pl.String)


def check_unique(experiments: pl.DataFrame, path: Path) -> None:
    """The same measurement twice in a file is an error, never a silent merge."""
    dup = experiments["id"].is_duplicated()
    if dup.any():
        first_id = experiments["id"][dup.arg_max()]
        lines = experiments.filter(pl.col("id") == first_id)[LINE].to_list()
        raise SourceError(
            path,
            lines[1],
            None,
            f"duplicate experiment (same genotype, environment and dataset as line {lines[0]});"
            f" {int(dup.sum())} rows are duplicated",
        )


def validate_experiments(tables: ExperimentTables) -> None:
    """Schema check on a sample: each sampled row must build an ``Experiment`` with the same id."""
    perts_by_id = tables.perturbations.group_by("experiment_id").agg(
        pl.struct(PERTURBATION_COLUMNS[1:]).alias("perturbations")
    )
    joined = tables.experiments.join(
        perts_by_id, left_on="id", right_on="experiment_id", how="left"
    )

    def build(row: dict) -> None:
        record = Experiment(
            dataset=row["dataset"],
            environment=Environment(media=row["media"], temperature=row["temperature"]),
            perturbations=[Perturbation(**p) for p in row["perturbations"] or []],
            **{label: row[label] for label in LABELS},
        )
        if record.id != row["id"]:
            raise RuntimeError(
                f"{tables.path}: parser id {row['id']} differs from schema id {record.id}"
            )

    validate_sample(joined, tables.path, [*EXPERIMENT_COLUMNS, "perturbations"], build)
