"""Costanzo et al. 2016 (Science 353:aaf1420), the global SGA genetic interaction screens.

Two files, both tab-separated with one header line:

* single-mutant fitness (``strain_ids_and_single_mutant_fitness.xlsx`` of Data File S1, read
  here as TSV): strain id, gene, allele, fitness and its SD at 26 °C and at 30 °C (``NaN`` =
  not measured). One experiment per strain and temperature that has a value.
* pairwise tables (``SGA_ExE.txt``, ``SGA_ExN_NxE.txt``, ``SGA_NxN.txt``): query and array
  strain, array type and temperature (``DMA30``, ``TSA26``, ...), ε and its P-value, the single
  mutants' fitness and the double-mutant fitness with its SD. One experiment per row.

Strain ids are ``<systematic name>_<tag><number>``; the tag names the allele kind: ``dma`` and
``sn`` deletions, ``tsa``/``tsq`` temperature-sensitive alleles, ``damp`` DAmP alleles, ``S``
suppressor alleles.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.errors import SourceError
from torchcell.schema import Dataset
from torchcell.sources.experiments import (
    EXPERIMENT_COLUMNS,
    FIELD,
    ExperimentTables,
    assign_ids,
    check_unique,
    perturbation_text,
    validate_experiments,
)
from torchcell.sources.table import LINE, check_pattern, read_table, require, to_float

SMF_DATASET = Dataset(
    name="costanzo2016_smf", doi="10.1126/science.aaf1420", version="Data File S1"
)
DMF_DATASET = Dataset(
    name="costanzo2016_dmf", doi="10.1126/science.aaf1420", version="Data File S1"
)
MEDIA = "SGA"
"""SGA selection medium; all Costanzo 2016 fitness values come from SGA colony sizes."""

MISSING = ("NaN",)

TAG_KINDS = {
    "dma": "deletion",
    "sn": "deletion",
    "tsa": "temperature_sensitive",
    "tsq": "temperature_sensitive",
    "damp": "damp",
    "S": "suppressor",
}
STRAIN_PATTERN = r"^([A-Za-z0-9\-]+)_(" + "|".join(TAG_KINDS) + r")(\d+)$"

SMF_COLUMNS = [
    "Strain ID",
    "Systematic gene name",
    "Allele/Gene name",
    "Single mutant fitness (26°)",
    "Single mutant fitness (26°) stddev",
    "Single mutant fitness (30°)",
    "Single mutant fitness (30°) stddev",
]
SGA_COLUMNS = [
    "Query Strain ID",
    "Query allele name",
    "Array Strain ID",
    "Array allele name",
    "Arraytype/Temp",
    "Genetic interaction score (ε)",
    "P-value",
    "Query single mutant fitness (SMF)",
    "Array SMF",
    "Double mutant fitness",
    "Double mutant fitness standard deviation",
]


def _strain(column: str, table: pl.DataFrame, path: Path) -> tuple[pl.Expr, pl.Expr]:
    """Gene and kind expressions from a strain id column (validated first)."""
    require(table, column, path)
    check_pattern(table, column, STRAIN_PATTERN, path, "a strain id like YAL002W_dma23")
    gene = pl.col(column).str.extract(STRAIN_PATTERN, 1)
    kind = pl.col(column).str.extract(STRAIN_PATTERN, 2).replace_strict(TAG_KINDS)
    return gene, kind


def parse_single_mutants(path: Path) -> ExperimentTables:
    """Single-mutant fitness: one experiment per (strain, temperature) with a measured value."""
    table = read_table(path, SMF_COLUMNS, header="\t".join(SMF_COLUMNS))
    gene, kind = _strain("Strain ID", table, path)
    require(table, "Systematic gene name", path)
    table = table.with_columns(gene.alias("gene"), kind.alias("kind"))
    mismatch = table["gene"] != table["Systematic gene name"]
    if mismatch.any():
        i = mismatch.arg_max()
        raise SourceError(
            path, int(table[LINE][i]), "Systematic gene name",
            f"{table['Systematic gene name'][i]!r} differs from the strain id's gene {table['gene'][i]!r}",
        )  # fmt: skip
    per_temperature = []
    for temperature in (26, 30):
        fitness = to_float(table, f"Single mutant fitness ({temperature}°)", path, missing=MISSING)
        std = to_float(
            table, f"Single mutant fitness ({temperature}°) stddev", path, missing=MISSING
        )
        per_temperature.append(
            table.with_columns(
                fitness.alias("fitness"),
                std.alias("fitness_std"),
                pl.lit(temperature, dtype=pl.Float64).alias("temperature"),
            ).filter(pl.col("fitness").is_not_null())
        )
    rows = pl.concat(per_temperature).with_columns(
        pl.lit(SMF_DATASET.name).alias("dataset"),
        pl.lit(MEDIA).alias("media"),
        pl.lit(None, dtype=pl.Float64).alias("gene_interaction"),
        pl.lit(None, dtype=pl.Float64).alias("gene_interaction_p_value"),
        perturbation_text("gene", "kind", "Allele/Gene name", "Strain ID").alias("p"),
    )
    rows = rows.with_columns(assign_ids(rows, ["p"]))
    experiments = rows.select(*EXPERIMENT_COLUMNS, LINE).sort(LINE, "temperature")
    check_unique(experiments, path)
    perturbations = rows.select(
        pl.col("id").alias("experiment_id"),
        "gene",
        "kind",
        pl.col("Allele/Gene name").alias("allele"),
        pl.col("Strain ID").alias("strain"),
        LINE,
        pl.lit("Strain ID").alias(FIELD),
    ).sort(LINE, "experiment_id")
    tables = ExperimentTables(path, experiments, perturbations)
    validate_experiments(tables)
    return tables


def parse_double_mutants(path: Path) -> ExperimentTables:
    """A pairwise SGA table: one double-mutant experiment per scored row.

    Rows with neither a double-mutant fitness nor an ε (``NaN``, pair not scored) carry no
    measurement; they are counted in ``ExperimentTables.unscored`` and reported, not loaded.
    """
    table = read_table(path, SGA_COLUMNS, header="\t".join(SGA_COLUMNS))
    q_gene, q_kind = _strain("Query Strain ID", table, path)
    a_gene, a_kind = _strain("Array Strain ID", table, path)
    require(table, "Arraytype/Temp", path)
    check_pattern(table, "Arraytype/Temp", r"^(DMA|TSA)(26|30)$", path, "an array type like DMA30")
    labels = {
        "gene_interaction": to_float(table, "Genetic interaction score (ε)", path, missing=MISSING),
        "gene_interaction_p_value": to_float(table, "P-value", path, missing=MISSING),
        "fitness": to_float(table, "Double mutant fitness", path, missing=MISSING),
        "fitness_std": to_float(table, "Double mutant fitness standard deviation", path, missing=MISSING),
    }  # fmt: skip
    rows = table.with_columns(
        *(series.alias(name) for name, series in labels.items()),
        q_gene.alias("q_gene"), q_kind.alias("q_kind"), a_gene.alias("a_gene"), a_kind.alias("a_kind"),
        pl.col("Arraytype/Temp").str.slice(3).cast(pl.Float64).alias("temperature"),
        pl.lit(DMF_DATASET.name).alias("dataset"),
        pl.lit(MEDIA).alias("media"),
    )  # fmt: skip
    scored = pl.col("fitness").is_not_null() | pl.col("gene_interaction").is_not_null()
    unscored = rows.height - rows.select(scored.sum()).item()
    rows = rows.filter(scored)
    same = rows["q_gene"] == rows["a_gene"]
    if same.any():
        i = same.arg_max()
        raise SourceError(
            path, int(rows[LINE][i]), "Array Strain ID", "query and array perturb the same gene"
        )
    rows = rows.with_columns(
        perturbation_text("q_gene", "q_kind", "Query allele name", "Query Strain ID").alias("pq"),
        perturbation_text("a_gene", "a_kind", "Array allele name", "Array Strain ID").alias("pa"),
    )
    rows = rows.with_columns(assign_ids(rows, ["pq", "pa"]))
    experiments = rows.select(*EXPERIMENT_COLUMNS, LINE)
    check_unique(experiments, path)
    side = {
        prefix: rows.select(
            pl.col("id").alias("experiment_id"),
            pl.col(f"{prefix[0].lower()}_gene").alias("gene"),
            pl.col(f"{prefix[0].lower()}_kind").alias("kind"),
            pl.col(f"{prefix} allele name").alias("allele"),
            pl.col(f"{prefix} Strain ID").alias("strain"),
            LINE,
            pl.lit(f"{prefix} Strain ID").alias(FIELD),
        )
        for prefix in ("Query", "Array")
    }
    perturbations = pl.concat(list(side.values())).sort(LINE, FIELD, descending=[False, True])
    tables = ExperimentTables(path, experiments, perturbations, unscored=unscored)
    validate_experiments(tables)
    return tables
