"""Kuzmin et al. 2018 (Science 360:eaao1729) and 2020 (Science 368:eaaz5667): trigenic screens.

Table S1, tab-separated with one header line, 12 columns. Queries are double mutants written
``GENE1+GENE2_tm<n>`` (allele names ``ntg1Δ+hoΔ``); YDL227C (HO) is the neutral control, so a
query with it perturbs one gene and its row is digenic. Arrays are Costanzo-style strain ids.
``Combined mutant type`` (digenic/trigenic) must agree with the number of perturbed genes.
The adjusted score (ε for digenic, τ for trigenic rows) is the ``gene_interaction`` label; the
double/triple-mutant fitness and its SD are ``fitness``/``fitness_std``.

The query and array fitness columns repeat, on every row of a strain, the fitness of the
query strain (a single mutant for hoΔ queries, the double mutant otherwise) and of the array
single mutant. Each strain's value is stored once, as a fitness-only experiment of the same
dataset, so the trigenic null (f_i f_j f_k + ε_ij f_k + ε_ik f_j + ε_jk f_i) has its singles.
With row shards, shard 0 writes them (from the whole file).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.schema import Dataset
from torchcell.sources.catalog import Source, SourceFiles
from torchcell.sources.costanzo2016 import MEDIA, MISSING, add_strain
from torchcell.sources.experiments import (
    ExperimentTables,
    Side,
    StrainFitness,
    experiment_tables,
    measured,
    with_environment,
    with_strain_fitness,
)
from torchcell.sources.table import STRICT, Rejects, cast, check_pattern, read_table, require

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


QUERY_SIDES = (
    Side("q1_gene", "q_kind", "q1_allele", "Query strain ID", "Query strain ID"),
    Side("q2_gene", "q_kind", "q2_allele", "Query strain ID", "Query strain ID"),
)
ARRAY_SIDE = Side("a_gene", "a_kind", "Array allele name", "Array strain ID", "Array strain ID")
STRAIN_FITNESS = [
    StrainFitness(QUERY_SIDES, "Query single/double mutant fitness"),
    StrainFitness((ARRAY_SIDE,), "Array single mutant fitness"),
]


def _read(
    path: Path, dataset: Dataset, rejects: Rejects, rows: tuple[int, int] | None
) -> pl.DataFrame:
    """The checked rows, with the query's genes and alleles split out."""
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
    expected = pl.Series(["digenic" if c else "trigenic" for c in control], dtype=pl.String)
    table = rejects.drop(
        table, table["Combined mutant type"] != expected, path, "Combined mutant type",
        "{value} does not match the query (hoΔ queries are digenic)",
    )  # fmt: skip
    for column in ("Query single/double mutant fitness", "Array single mutant fitness"):
        table = cast(table, column, path, missing=MISSING, rejects=rejects)
    return with_environment(table, dataset.name, MEDIA, TEMPERATURE)


def parse_trigenic(
    path: Path,
    dataset: Dataset = KUZMIN2018,
    rejects: Rejects = STRICT,
    rows: tuple[int, int] | None = None,
) -> ExperimentTables:
    """The screen's rows (digenic and trigenic), plus, in shard 0, each strain's fitness."""
    table = _read(path, dataset, rejects, rows)
    labels = {
        "Adjusted genetic interaction score (epsilon or tau)": "gene_interaction",
        "P-value": "gene_interaction_p_value",
        "Double/triple mutant fitness": "fitness",
        "Double/triple mutant fitness standard deviation": "fitness_std",
    }
    scored, unscored = measured(table, labels, path, rejects, MISSING)
    screen = experiment_tables(scored, [*QUERY_SIDES, ARRAY_SIDE], path, rejects, unscored)
    whole = lambda: _read(path, dataset, Rejects(True), None)  # noqa: E731
    return with_strain_fitness(screen, table, rows, whole, STRAIN_FITNESS, rejects, MISSING)


def _screens(dataset: Dataset):
    def screens(files: SourceFiles, rows: tuple[int, int] | None) -> list[ExperimentTables]:
        return [parse_trigenic(p, dataset, files.rejects, rows) for p in files.paths[0]]

    return screens


SOURCE_2018 = Source(
    "kuzmin2018", ("Kuzmin2018_TableS1*.txt*",), (None,), "Table S1",
    "Kuzmin et al., Science 360:eaao1729 (2018)", "cite the paper",
    home="https://doi.org/10.1126/science.aao1729", screens=_screens(KUZMIN2018),
    datasets=(KUZMIN2018,), scale="sga",
)  # fmt: skip
SOURCE_2020 = Source(
    "kuzmin2020", ("Kuzmin2020_TableS1*.txt*",), (None,), "Table S1 (794,774 rows)",
    "Kuzmin et al., Science 368:eaaz5667 (2020)", "cite the paper",
    home="https://doi.org/10.1126/science.aaz5667", screens=_screens(KUZMIN2020),
    datasets=(KUZMIN2020,), scale="sga",
)  # fmt: skip
