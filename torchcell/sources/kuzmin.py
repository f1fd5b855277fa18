"""Kuzmin et al. 2018 (Science 360:eaao1729) and 2020 (Science 368:eaaz5667): trigenic screens.

Table S1, tab-separated with one header line, 12 columns. Queries are double mutants written
``GENE1+GENE2_tm<n>`` (allele names ``ntg1Δ+hoΔ``); YDL227C (HO) is the neutral control, so a
query with it perturbs one gene and its row is digenic. Arrays are Costanzo-style strain ids.
``Combined mutant type`` (digenic/trigenic) must agree with the number of perturbed genes.
The adjusted score (ε for digenic, τ for trigenic rows) is the ``gene_interaction`` label; the
double/triple-mutant fitness and its SD are ``fitness``/``fitness_std``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.schema import Dataset
from torchcell.sources.costanzo2016 import MEDIA, MISSING, add_strain
from torchcell.sources.experiments import ExperimentTables, Side, experiment_tables, measured
from torchcell.sources.table import STRICT, Rejects, check_pattern, read_table, require

KUZMIN2018 = Dataset(name="kuzmin2018_trigenic", doi="10.1126/science.aao1729", version="Table S1")
KUZMIN2020 = Dataset(name="kuzmin2020_trigenic", doi="10.1126/science.aaz5667", version="Table S1")
HO = "YDL227C"
TEMPERATURE = 30.0

COLUMNS = [
    "Query strain ID",
    "Query allele name",
    "Array strain ID",
    "Array allele name",
    "Combined mutant type",
    "Raw genetic interaction score (epsilon)",
    "Adjusted genetic interaction score (epsilon or tau)",
    "P-value",
    "Query single/double mutant fitness",
    "Array single mutant fitness",
    "Double/triple mutant fitness",
    "Double/triple mutant fitness standard deviation",
]
QUERY_PATTERN = r"^([A-Za-z0-9\-]+)\+([A-Za-z0-9\-]+)_tm(\d+)$"


def parse_trigenic(
    path: Path,
    dataset: Dataset = KUZMIN2018,
    rejects: Rejects = STRICT,
    rows: tuple[int, int] | None = None,
) -> ExperimentTables:
    table = read_table(path, COLUMNS, header="\t".join(COLUMNS), rejects=rejects, rows=rows)
    table = require(table, "Query strain ID", path, rejects)
    table = check_pattern(
        table, "Query strain ID", QUERY_PATTERN, path, "a query like YAL015C+YDL227C_tm461", rejects
    )
    table = add_strain(table, "Array strain ID", "a", path, rejects)
    table = check_pattern(
        table, "Combined mutant type", "^(digenic|trigenic)$", path, "digenic or trigenic", rejects
    )
    alleles = pl.col("Query allele name").fill_null("").str.split("+")
    table = table.with_columns(
        pl.col("Query strain ID").str.extract(QUERY_PATTERN, 1).alias("q1_gene"),
        pl.col("Query strain ID").str.extract(QUERY_PATTERN, 2).alias("q2_gene"),
        alleles.list.get(0, null_on_oob=True).alias("q1_allele"),
        alleles.list.get(1, null_on_oob=True).alias("q2_allele"),
        pl.lit("deletion").alias("q_kind"),
    )
    control = table["q2_gene"] == HO
    table = table.with_columns(
        pl.when(control).then(None).otherwise(pl.col("q2_gene")).alias("q2_gene")
    )
    expected = pl.Series(["digenic" if c else "trigenic" for c in control])
    table = rejects.drop(
        table, table["Combined mutant type"] != expected, path, "Combined mutant type",
        "{value} does not match the query (hoΔ queries are digenic)",
    )  # fmt: skip
    labels = {
        "Adjusted genetic interaction score (epsilon or tau)": "gene_interaction",
        "P-value": "gene_interaction_p_value",
        "Double/triple mutant fitness": "fitness",
        "Double/triple mutant fitness standard deviation": "fitness_std",
    }
    table, unscored = measured(table, labels, path, rejects, MISSING)
    table = table.with_columns(
        pl.lit(TEMPERATURE).alias("temperature"),
        pl.lit(dataset.name).alias("dataset"),
        pl.lit(MEDIA).alias("media"),
    )
    sides = [
        Side("q1_gene", "q_kind", "q1_allele", "Query strain ID", "Query strain ID"),
        Side("q2_gene", "q_kind", "q2_allele", "Query strain ID", "Query strain ID"),
        Side("a_gene", "a_kind", "Array allele name", "Array strain ID", "Array strain ID"),
    ]
    return experiment_tables(table, sides, path, rejects, unscored)
