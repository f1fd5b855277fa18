"""The column layout every screen parser produces, and the checks shared by all of them.

A screen becomes two frames:

* ``experiments``: one row per measurement, ``EXPERIMENT_COLUMNS``;
* ``perturbations``: one row per perturbed gene of a measurement, ``PERTURBATION_COLUMNS``.

Both carry ``_line`` (and perturbations ``_field``) so that any later check, such as a gene the
genome does not know, can name the file, line and field it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from torchcell.schema import (
    EXPERIMENT_LABELS,
    VALUE_LABELS,
    Environment,
    Experiment,
    Perturbation,
    buckets,
    environment_id,
    experiment_ids,
)
from torchcell.sources.table import LINE, Rejects, cast, repeated
from torchcell.sources.validate import validate_sample

FIELD = "_field"

LABELS = list(EXPERIMENT_LABELS)
RANGES = {
    "fitness": (0.0, None),
    "fitness_std": (0.0, None),
    "gene_interaction_p_value": (0.0, 1.0),
}
"""Label bounds the schema enforces, checked column-wise so that a bad row is quarantined."""
EXPERIMENT_COLUMNS = ["id", "dataset", "media", "temperature", *LABELS, "genotype", "bucket"]
PERTURBATION_COLUMNS = ["experiment_id", "gene", "kind", "allele", "strain"]


@dataclass(frozen=True)
class ExperimentTables:
    """Experiments and their perturbations parsed from one file."""

    path: Path
    experiments: pl.DataFrame
    perturbations: pl.DataFrame
    unscored: int = 0
    """Rows of the file that hold no measurement (e.g. ``NaN`` pairs), reported by the build."""
    notes: dict[str, int] = field(default_factory=dict)
    """Counts of what the parser did on purpose (e.g. cells averaged), reported by the build."""

    def __post_init__(self) -> None:
        assert self.experiments.columns == [*EXPERIMENT_COLUMNS, LINE], self.experiments.columns
        assert self.perturbations.columns == [*PERTURBATION_COLUMNS, LINE, FIELD], (
            self.perturbations.columns
        )


def measured(
    table: pl.DataFrame,
    labels: dict[str, str],
    path: Path,
    rejects: Rejects,
    missing: tuple[str, ...],
) -> tuple[pl.DataFrame, int]:
    """Cast a screen's label columns (``{source column: label}``) and keep the scored rows.

    Returns the rows with a fitness or an interaction score, and how many rows had neither
    (``NaN`` pairs: not measured, reported as unscored).
    """
    for column in labels:
        table = cast(table, column, path, missing=missing, rejects=rejects)
    table = in_range(table, labels, path, rejects)
    table = table.with_columns(pl.col(column).alias(label) for column, label in labels.items())
    present = [label for label in labels.values() if label in VALUE_LABELS]
    scored = pl.any_horizontal(pl.col(label).is_not_null() for label in present)
    kept = table.filter(scored)
    return kept, table.height - kept.height


def in_range(
    table: pl.DataFrame, labels: dict[str, str], path: Path, rejects: Rejects
) -> pl.DataFrame:
    """Rows whose numeric ``{column: label}`` values are outside the label's ``RANGES`` are bad."""
    for column, label in labels.items():
        low, high = RANGES.get(label, (None, None))
        values = table[column]
        if low is not None:
            table = rejects.drop(table, values < low, path, column, f"{{value}} is below {low}")
            values = table[column]
        if high is not None:
            table = rejects.drop(table, values > high, path, column, f"{{value}} is above {high}")
    return table


def allele_identity_expr(gene: str, kind: str, allele: str) -> pl.Expr:
    """Column-wise ``torchcell.schema.allele_identity`` of the columns named."""
    allele_text = pl.col(allele).fill_null("").str.to_lowercase()
    return (
        pl.when(pl.col(kind) == "deletion")
        .then(pl.concat_str([pl.col(gene), pl.col(kind)], separator=":"))
        .otherwise(pl.concat_str([pl.col(gene), pl.col(kind), allele_text], separator=":"))
    )


@dataclass(frozen=True)
class Side:
    """Where one perturbed gene of a row lives: columns for gene, kind, allele and strain.

    ``field`` is the source column named in errors about that gene. A side whose gene is null
    on a row (for example a control half of a query) is not a perturbation of that row.
    """

    gene: str
    kind: str
    allele: str
    strain: str
    field: str

    def genotype_text(self) -> pl.Expr:
        """Column-wise ``torchcell.schema.allele_identity``."""
        return allele_identity_expr(self.gene, self.kind, self.allele)

    def text(self) -> pl.Expr:
        """Column-wise ``torchcell.schema.perturbation_key``."""
        parts = [pl.col(self.allele).fill_null(""), pl.col(self.strain).fill_null("")]
        return pl.concat_str([pl.col(self.gene), pl.col(self.kind), *parts], separator=":")


def experiment_tables(
    rows: pl.DataFrame, sides: list[Side], path: Path, rejects: Rejects, unscored: int = 0
) -> ExperimentTables:
    """Ids, duplicate check and the two output frames for parsed ``rows``.

    ``rows`` needs ``dataset``, ``media``, ``temperature``, the ``LABELS`` and the ``sides``'
    columns. Each experiment's id covers its sorted perturbations, so it does not depend on
    which gene was the query.
    """
    rows = rows.with_columns(
        pl.lit(None, dtype=pl.Float64).alias(label) for label in LABELS if label not in rows.columns
    )
    texts = [side.text().alias(f"_p{i}") for i, side in enumerate(sides)]
    genotypes = [side.genotype_text().alias(f"_g{i}") for i, side in enumerate(sides)]
    rows = rows.with_columns(*texts, *genotypes)
    rows = rows.with_columns(
        assign_ids(
            rows, [f"_p{i}" for i in range(len(sides))], [f"_g{i}" for i in range(len(sides))]
        )
    )
    identical = repeated(rows, "id", *LABELS)
    notes = {f"{path.name}: identical repeated rows dropped": int(identical.sum())}
    rows = drop_repeats(rows.filter(~identical), path, rejects)
    perturbations = pl.concat(
        [
            rows.filter(pl.col(side.gene).is_not_null()).select(
                pl.col("id").alias("experiment_id"),
                pl.col(side.gene).alias("gene"),
                pl.col(side.kind).alias("kind"),
                pl.col(side.allele).alias("allele"),
                pl.col(side.strain).alias("strain"),
                LINE,
                pl.lit(side.field).alias(FIELD),
                pl.lit(i).alias("_side"),
            )
            for i, side in enumerate(sides)
        ]
    )
    perturbations = perturbations.sort(LINE, "_side").drop("_side")
    twice = perturbations.filter(repeated(perturbations, "experiment_id", "gene"))
    if twice.height:
        rejects.drop(
            twice,
            pl.Series([True] * twice.height),
            path,
            twice[FIELD][0],
            "perturbs gene {value} twice",
            values="gene",
        )
        bad = twice["experiment_id"].implode()
        rows = rows.filter(~pl.col("id").is_in(bad))
        perturbations = perturbations.filter(~pl.col("experiment_id").is_in(bad))
    tables = ExperimentTables(
        path, rows.select(*EXPERIMENT_COLUMNS, LINE), perturbations, unscored, notes
    )
    validate_experiments(tables)
    return tables


def assign_ids(
    table: pl.DataFrame, perturbation_texts: list[str], genotype_texts: list[str]
) -> pl.DataFrame:
    """``id``, ``genotype`` and ``bucket`` columns (see ``torchcell.schema``) for ``table``.

    The key texts (``torchcell.schema.experiment_key``, ``genotype_key``) are built column-wise;
    only the hashing loops over rows.
    """
    envs = table.select("media", "temperature").unique()
    envs = envs.with_columns(
        pl.Series("env", [environment_id(m, t) for m, t in envs.iter_rows()], dtype=pl.String)
    )

    keyed = table.select("dataset", "media", "temperature", *perturbation_texts, *genotype_texts)
    keyed = sort_across(sort_across(keyed, perturbation_texts), genotype_texts)
    keyed = keyed.join(envs, on=["media", "temperature"], how="left", maintain_order="left").select(
        pl.concat_str(
            ["dataset", pl.concat_str(perturbation_texts, separator=";", ignore_nulls=True), "env"],
            separator="|",
        ).alias("key"),
        pl.concat_str(
            [pl.concat_str(genotype_texts, separator=";", ignore_nulls=True), "env"], separator="@"
        ).alias("genotype"),
    )
    return pl.DataFrame(
        {
            "id": experiment_ids(keyed["key"].to_list()),
            "genotype": keyed["genotype"],
            "bucket": buckets(keyed["genotype"].to_list()),
        },
        schema={"id": pl.String, "genotype": pl.String, "bucket": pl.Int64},
    )


def sort_across(table: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Sort each row's values across ``columns`` (nulls last), like ``sorted`` on the row.

    A bubble-sort network of column-wise compare-and-swaps: a handful of vectorized passes for
    the one to three perturbations of a screen row, far cheaper than polars list sorting.
    """
    for end in range(len(columns) - 1, 0, -1):
        for i in range(end):
            a, b = pl.col(columns[i]), pl.col(columns[i + 1])
            keep = b.is_null() | (a.is_not_null() & (a <= b))
            table = table.with_columns(
                pl.when(keep).then(a).otherwise(b).alias(columns[i]),
                pl.when(keep).then(b).otherwise(a).alias(columns[i + 1]),
            )
    return table


def drop_repeats(rows: pl.DataFrame, path: Path, rejects: Rejects) -> pl.DataFrame:
    """The same experiment twice in a file with different values is a bad row (the later one),
    never a silent merge. (A row repeated verbatim is dropped before, and counted.)"""
    first_line = rows.group_by("id").agg(pl.col(LINE).min().alias("_first"))
    rows = rows.join(first_line, on="id", how="left", maintain_order="left")
    rows = rows.with_columns(pl.col("_first").cast(pl.String))
    return rejects.drop(
        rows,
        repeated(rows, "id"),
        path,
        None,
        "duplicate experiment: same genotype, environment and dataset as line {number}",
        values="_first",
    ).drop("_first")


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
        if (record.id, record.genotype) != (row["id"], row["genotype"]):
            raise RuntimeError(
                f"{tables.path}: parser id/genotype of {row['id']} differ from the schema's"
            )

    validate_sample(joined, tables.path, [*EXPERIMENT_COLUMNS, "perturbations"], build)


@dataclass(frozen=True)
class StrainFitness:
    """A fitness column that a screen repeats on every row of a strain (Kuzmin's query and
    array single-mutant fitness, Costanzo 2010's query and array SMF): the ``sides`` it
    measures (one gene, or two for a double-mutant query strain) and its SD column, if any."""

    sides: tuple[Side, ...]
    fitness: str
    fitness_std: str | None = None


def strain_fitness_tables(
    table: pl.DataFrame,
    columns: list[StrainFitness],
    path: Path,
    rejects: Rejects,
    missing: tuple[str, ...],
) -> ExperimentTables:
    """One fitness experiment per strain (its first line) from columns repeated per row.

    ``table`` must hold the whole file (a strain's rows may fall into every row shard) and the
    ``dataset``, ``media`` and ``temperature`` columns; fitness columns still text are cast here.
    """
    width = max(len(c.sides) for c in columns)
    frames = []
    for order, column in enumerate(columns):
        typed = table
        for name in filter(None, (column.fitness, column.fitness_std)):
            if typed.schema[name] == pl.String:
                typed = cast(typed, name, path, missing=missing, rejects=rejects)
        names = {column.fitness: "fitness"}
        if column.fitness_std:
            names[column.fitness_std] = "fitness_std"
        typed = in_range(typed, names, path, rejects)
        std = pl.col(column.fitness_std) if column.fitness_std else pl.lit(None, pl.Float64)
        select = [pl.col(column.fitness).alias("fitness"), std.alias("fitness_std")]
        for i in range(width):
            side = column.sides[i] if i < len(column.sides) else None
            for part in ("gene", "kind", "allele", "strain"):
                value = pl.col(getattr(side, part)) if side else pl.lit(None, pl.String)
                select.append(value.alias(f"_{part}{i}"))
        frames.append(
            typed.filter(pl.col(column.fitness).is_not_null()).select(
                "dataset", "media", "temperature", *select, LINE, pl.lit(order).alias("_column")
            )
        )
    rows = pl.concat(frames).sort(LINE, "_column")
    strains = [f"_strain{i}" for i in range(width)]
    rows = rows.unique(subset=[*strains, "temperature"], keep="first", maintain_order=True)
    fields = [next(c.sides[i].field for c in columns if len(c.sides) > i) for i in range(width)]
    sides = [
        Side(f"_gene{i}", f"_kind{i}", f"_allele{i}", f"_strain{i}", fields[i])
        for i in range(width)
    ]
    return experiment_tables(rows.drop("_column"), sides, path, rejects)


def concat_tables(tables: list[ExperimentTables]) -> ExperimentTables:
    """The experiments of several tables of one file as one table."""
    return ExperimentTables(
        tables[0].path,
        pl.concat([t.experiments for t in tables]),
        pl.concat([t.perturbations for t in tables]),
        sum(t.unscored for t in tables),
        {k: v for t in tables for k, v in t.notes.items()},
    )


def with_environment(
    table: pl.DataFrame, dataset: str, media: str, temperature: float
) -> pl.DataFrame:
    """The ``dataset``, ``media`` and ``temperature`` columns every screen row needs."""
    return table.with_columns(
        pl.lit(temperature, dtype=pl.Float64).alias("temperature"),
        pl.lit(dataset).alias("dataset"),
        pl.lit(media).alias("media"),
    )


def with_strain_fitness(
    screen: ExperimentTables,
    table: pl.DataFrame,
    rows: tuple[int, int] | None,
    whole_file: Callable[[], pl.DataFrame],
    columns: list[StrainFitness],
    rejects: Rejects,
    missing: tuple[str, ...],
) -> ExperimentTables:
    """A screen's tables plus, in row shard 0 only, each strain's fitness (``StrainFitness``),
    read from the whole file (``whole_file``) when ``table`` is one slice of it."""
    if rows is not None and rows[0] != 0:
        return screen
    whole = table if rows is None or rows[1] == 1 else whole_file()
    singles = strain_fitness_tables(whole, columns, screen.path, rejects, missing)
    return concat_tables([screen, singles])
