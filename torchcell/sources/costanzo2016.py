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

from torchcell.schema import Dataset
from torchcell.sources.catalog import GITHUB, Source, SourceFiles
from torchcell.sources.experiments import ExperimentTables, Side, experiment_tables, measured
from torchcell.sources.table import STRICT, Rejects, cast, check_pattern, read_table, require

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


def add_strain(
    table: pl.DataFrame, column: str, prefix: str, path: Path, rejects: Rejects
) -> pl.DataFrame:
    """Check a strain id column and add ``<prefix>_gene`` and ``<prefix>_kind`` from it."""
    table = require(table, column, path, rejects)
    table = check_pattern(
        table, column, STRAIN_PATTERN, path, "a strain id like YAL002W_dma23", rejects
    )
    return table.with_columns(
        pl.col(column).str.extract(STRAIN_PATTERN, 1).alias(f"{prefix}_gene"),
        pl.col(column)
        .str.extract(STRAIN_PATTERN, 2)
        .replace_strict(TAG_KINDS)
        .alias(f"{prefix}_kind"),
    )


def parse_single_mutants(
    path: Path, rejects: Rejects = STRICT, rows: tuple[int, int] | None = None
) -> ExperimentTables:
    """Single-mutant fitness: one experiment per (strain, temperature) with a measured value.

    Strains measured at neither temperature are counted in ``ExperimentTables.unscored``.
    """
    table = read_table(path, SMF_COLUMNS, header="\t".join(SMF_COLUMNS), rejects=rejects, rows=rows)
    table = add_strain(table, "Strain ID", "s", path, rejects)
    table = require(table, "Systematic gene name", path, rejects)
    table = rejects.drop(
        table,
        table["s_gene"] != table["Systematic gene name"],
        path,
        "Systematic gene name",
        "{value} differs from the gene of the strain id",
    )
    for temperature in (26, 30):
        for column in (
            f"Single mutant fitness ({temperature}°)",
            f"Single mutant fitness ({temperature}°) stddev",
        ):
            table = cast(table, column, path, missing=MISSING, rejects=rejects)
    per_temperature = [
        table.select(
            pl.all(),
            pl.col(f"Single mutant fitness ({t}°)").alias("fitness"),
            pl.col(f"Single mutant fitness ({t}°) stddev").alias("fitness_std"),
            pl.lit(t, dtype=pl.Float64).alias("temperature"),
        ).filter(pl.col("fitness").is_not_null())
        for t in (26, 30)
    ]
    measured = pl.concat(per_temperature).with_columns(
        pl.lit(SMF_DATASET.name).alias("dataset"),
        pl.lit(MEDIA).alias("media"),
        pl.lit(None, dtype=pl.Float64).alias("gene_interaction"),
        pl.lit(None, dtype=pl.Float64).alias("gene_interaction_p_value"),
    )
    unscored = int(
        (
            table["Single mutant fitness (26°)"].is_null()
            & table["Single mutant fitness (30°)"].is_null()
        ).sum()
    )
    side = Side("s_gene", "s_kind", "Allele/Gene name", "Strain ID", "Strain ID")
    return experiment_tables(measured, [side], path, rejects, unscored)


def parse_double_mutants(
    path: Path, rejects: Rejects = STRICT, rows: tuple[int, int] | None = None
) -> ExperimentTables:
    """A pairwise SGA table: one double-mutant experiment per scored row.

    Rows with neither a double-mutant fitness nor an ε (``NaN``, pair not scored) carry no
    measurement; they are counted in ``ExperimentTables.unscored`` and reported, not loaded.
    """
    table = read_table(path, SGA_COLUMNS, header="\t".join(SGA_COLUMNS), rejects=rejects, rows=rows)
    table = add_strain(table, "Query Strain ID", "q", path, rejects)
    table = add_strain(table, "Array Strain ID", "a", path, rejects)
    table = require(table, "Arraytype/Temp", path, rejects)
    table = check_pattern(
        table, "Arraytype/Temp", r"^(DMA|TSA)(26|30)$", path, "an array type like DMA30", rejects
    )
    labels = {
        "Genetic interaction score (ε)": "gene_interaction",
        "P-value": "gene_interaction_p_value",
        "Double mutant fitness": "fitness",
        "Double mutant fitness standard deviation": "fitness_std",
    }
    table, unscored = measured(table, labels, path, rejects, MISSING)
    table = table.with_columns(
        pl.col("Arraytype/Temp").str.slice(3).cast(pl.Float64).alias("temperature"),
        pl.lit(DMF_DATASET.name).alias("dataset"),
        pl.lit(MEDIA).alias("media"),
    )
    sides = [
        Side("q_gene", "q_kind", "Query allele name", "Query Strain ID", "Query Strain ID"),
        Side("a_gene", "a_kind", "Array allele name", "Array Strain ID", "Array Strain ID"),
    ]
    return experiment_tables(table, sides, path, rejects, unscored)


def _screens(files: SourceFiles, rows: tuple[int, int] | None) -> list[ExperimentTables]:
    smf, sga = files.paths
    return [
        *(parse_single_mutants(p, files.rejects, rows) for p in smf),
        *(parse_double_mutants(p, files.rejects, rows) for p in sga),
    ]


SOURCE = Source(
    "costanzo2016",
    ("strain_ids_and_single_mutant_fitness.tsv*|strain_ids_and_single_mutant_fitness.xlsx",
     "SGA_*.txt*"),
    (f"{GITHUB}/SATAY-LL/LaanLab-SATAY-DataAnalysis/423e2da4fbe07fb7be219c5c1eb4ab724fecb694/Python_scripts/strain_ids_and_single_mutant_fitness.xlsx",
     "https://thecellmap.org/costanzo2016/data_files/Raw%20genetic%20interaction%20datasets:%20Pair-wise%20interaction%20format.zip"),
    "Data File S1", "Costanzo et al., Science 353:aaf1420 (2016)", "cite the paper",
    ("6836cf8257b9ee2037713b3d279ed723852cfb60fb0db1a547e41af01b1b1174", None),
    (None, "costanzo2016_data_file_S1_pairwise.zip"),
    home="https://thecellmap.org/costanzo2016/", screens=_screens, requires=(),
    datasets=(SMF_DATASET, DMF_DATASET), scale="sga",
)  # fmt: skip
