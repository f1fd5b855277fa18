"""Costanzo et al. 2010 (Science 327:425), the first genome-scale SGA map: raw pairwise data.

``sgadata_costanzo2009_rawdata_101120.txt`` (DRYGIN supplement): tab-separated, no header,
13 columns: query ORF, query gene name, array ORF, array gene name, ε, its SD (the
double-mutant fitness SD), P-value, query SMF and SD, array SMF and SD, double-mutant fitness
and SD. Unscored pairs carry ``NaN``. A query ORF may carry an allele suffix (``YAL041W_tsq412``,
name ``cdc24-3``): the tag gives the kind (Costanzo 2016 tags) and the gene name is the
allele; plain ORFs are deletions. One double-mutant experiment per scored row.

The query and array SMF columns repeat each strain's single-mutant fitness on all its rows;
each is stored once as a single-mutant experiment (row shard 0 writes them, from the whole
file). The file gives no temperature; the screens are taken as 30 °C on SGA medium.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.schema import Dataset
from torchcell.sources.catalog import Source
from torchcell.sources.costanzo2016 import MEDIA, MISSING, TAG_KINDS
from torchcell.sources.experiments import (
    ExperimentTables,
    Side,
    StrainFitness,
    experiment_tables,
    measured,
    with_environment,
    with_strain_fitness,
)
from torchcell.sources.table import STRICT, Rejects, check_pattern, read_table, require

DATASET = Dataset(name="costanzo2010", doi="10.1126/science.1180823", version="rawdata_101120")
TEMPERATURE = 30.0
COLUMNS = [
    "query ORF",
    "query gene name",
    "array ORF",
    "array gene name",
    "genetic interaction score",
    "standard deviation",
    "p-value",
    "query SMF",
    "query SMF SD",
    "array SMF",
    "array SMF SD",
    "double mutant fitness",
    "double mutant fitness SD",
]
ID = r"^([A-Za-z0-9\-]+)(?:_(" + "|".join(TAG_KINDS) + r")(\d+))?$"
QUERY = Side("q_gene", "q_kind", "q_allele", "query ORF", "query ORF")
ARRAY = Side("a_gene", "a_kind", "a_allele", "array ORF", "array ORF")
STRAIN_FITNESS = [
    StrainFitness((QUERY,), "query SMF", "query SMF SD"),
    StrainFitness((ARRAY,), "array SMF", "array SMF SD"),
]


def _read(path: Path, rejects: Rejects, rows: tuple[int, int] | None) -> pl.DataFrame:
    table = read_table(path, COLUMNS, rejects=rejects, rows=rows)
    for prefix, column, name in (
        ("q", "query ORF", "query gene name"),
        ("a", "array ORF", "array gene name"),
    ):
        table = require(table, column, path, rejects)
        table = check_pattern(
            table, column, ID, path, "an ORF, optionally with an allele tag like _tsq412", rejects
        )
        tag = pl.col(column).str.extract(ID, 2)
        kind = tag.replace_strict(TAG_KINDS, default="deletion")
        table = table.with_columns(
            pl.col(column).str.extract(ID, 1).alias(f"{prefix}_gene"),
            kind.alias(f"{prefix}_kind"),
            pl.when(kind == "deletion").then(None).otherwise(pl.col(name)).alias(f"{prefix}_allele"),
        )  # fmt: skip
    return with_environment(table, DATASET.name, MEDIA, TEMPERATURE)


def parse_pairwise(
    path: Path, rejects: Rejects = STRICT, rows: tuple[int, int] | None = None
) -> ExperimentTables:
    """The scored pairs of the raw file, plus (in shard 0) each strain's single-mutant fitness."""
    table = _read(path, rejects, rows)
    labels = {
        "genetic interaction score": "gene_interaction",
        "p-value": "gene_interaction_p_value",
        "double mutant fitness": "fitness",
        "double mutant fitness SD": "fitness_std",
    }
    scored, unscored = measured(table, labels, path, rejects, MISSING)
    pairs = experiment_tables(scored, [QUERY, ARRAY], path, rejects, unscored)
    whole = lambda: _read(path, Rejects(True), None)  # noqa: E731
    return with_strain_fitness(pairs, table, rows, whole, STRAIN_FITNESS, rejects, MISSING)


SOURCE = Source(
    "costanzo2010", ("sgadata_costanzo2009_rawdata_*.txt*",),
    (None,),
    "rawdata_101120", "Costanzo et al., Science 327:425 (2010)", "cite the paper",
    home="http://boonelab.ccbr.utoronto.ca/supplement/costanzo2009/",
    screens=lambda files, rows: [parse_pairwise(p, files.rejects, rows) for p in files.paths[0]],
    datasets=(DATASET,), scale="sga",
)  # fmt: skip
