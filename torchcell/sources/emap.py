"""E-MAP S-score matrices (Schuldiner et al. 2005, Collins et al. 2007 and later E-MAPs).

An E-MAP is a square, symmetric, tab-separated matrix: the first header cell is ``gene``, the
other header cells and each row's first cell are systematic names, and the cells are S-scores
or ``NA`` (diagonal, untested). Each unordered pair appears twice (i, j and j, i), sometimes
with a value in only one cell. One experiment per measured unordered pair, with the S-score as
``emap_score``: a scale of its own (S ≲ −2.5 aggravating, S ≳ 2 alleviating; Collins et al.,
Genome Biol 2006), never mixed with SGA ε, and no fitness.

An optional allele table beside the matrix (``emap_<name>_alleles.tsv``, tab, header
``gene	mutation``) gives each gene's allele: ``DELETION``, ``DAMP`` or a named allele
(``POL30-79``, kind ``allele``). Without one every gene is taken as a deletion, and the build
says so. Files are matched by name: ``emap_<name>_Sscore_matrix.tsv[.gz]`` is dataset
``emap_<name>``.

Where a pair's two cells both hold a value and differ, the pair's score is their mean
(counted in the build's notes). E-MAP colonies are grown on SGA selection plates at 30 °C.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from torchcell.errors import SourceError
from torchcell.schema import Dataset
from torchcell.sources.catalog import Source, SourceFiles
from torchcell.sources.experiments import (
    ExperimentTables,
    Side,
    experiment_tables,
    with_environment,
)
from torchcell.sources.table import LINE, STRICT, Rejects, cast, read_lines, read_table, require

MATRIX = "emap_*_Sscore_matrix.tsv*"
ALLELES = "emap_*_alleles.tsv*"
MEDIA = "SGA"
TEMPERATURE = 30.0
ALLELE_HEADER = "gene\tmutation"
KNOWN = {
    "emap_schuldiner2005": Dataset(
        name="emap_schuldiner2005", doi="10.1016/j.cell.2005.08.031", version="S-score matrix"
    ),
    "emap_collins2007": Dataset(
        name="emap_collins2007", doi="10.1038/nature05649", version="S-score matrix"
    ),
}
"""E-MAPs whose publication is known; any other ``emap_<name>`` gets a Dataset without a DOI."""


def dataset_of(path: Path) -> str:
    """``emap_<name>`` from ``emap_<name>_Sscore_matrix.tsv.gz``."""
    return re.sub(r"_Sscore_matrix\.tsv.*$", "", Path(path).name)


def parse_alleles(path: Path, rejects: Rejects = STRICT) -> pl.DataFrame:
    """``gene``, ``kind``, ``allele`` per gene of an E-MAP allele table."""
    table = read_table(path, ["gene", "mutation"], header=ALLELE_HEADER, rejects=rejects)
    table = require(require(table, "gene", path, rejects), "mutation", path, rejects)
    table = rejects.drop(
        table, table["gene"].is_duplicated() & ~table["gene"].is_first_distinct(), path, "gene",
        "{value} is listed twice",
    )  # fmt: skip
    mutation = pl.col("mutation").str.to_uppercase()
    return table.select(
        "gene",
        pl.when(mutation == "DELETION")
        .then(pl.lit("deletion"))
        .when(mutation == "DAMP")
        .then(pl.lit("damp"))
        .otherwise(pl.lit("allele"))
        .alias("kind"),
        pl.when(mutation == "DELETION")
        .then(None)
        .when(mutation == "DAMP")
        .then(pl.concat_str([pl.col("gene"), pl.lit("-damp")]))
        .otherwise(pl.col("mutation"))
        .alias("allele"),
    )


def parse_matrix(
    path: Path,
    alleles: pl.DataFrame | None = None,
    rejects: Rejects = STRICT,
    rows: tuple[int, int] | None = None,
) -> ExperimentTables:
    """One ``emap_score`` experiment per measured unordered pair of the matrix.

    ``rows=(i, n)``: the pairs whose first (row-order) occurrence is in the i-th of n slices of
    the matrix rows, so that shards together hold every pair once.
    """
    path = Path(path)
    lines = read_lines(path)
    header = lines["text"][0] if lines.height else None
    if header is None or not header.startswith("gene\t"):
        raise SourceError(
            path, 1, None, f"expected a header starting with 'gene<TAB>', found {header!r}"
        )
    labels = header.split("\t")[1:]
    twice = sorted({g for g in labels if labels.count(g) > 1})
    if twice:
        raise SourceError(path, 1, None, f"column(s) {', '.join(twice)} appear twice in the header")
    table = read_table(path, ["gene", *labels], header=header, rejects=rejects)
    table = require(table, "gene", path, rejects)
    position = {g: i for i, g in enumerate(labels)}
    table = rejects.drop(
        table, ~table["gene"].is_in(labels), path, "gene", "row {value} is not a column of the matrix"
    )  # fmt: skip
    cells = table.unpivot(
        index=["gene", LINE], on=labels, variable_name="column", value_name="text"
    )
    cells = cells.filter(pl.col("gene") != pl.col("column"))
    cells = cells.with_columns(pl.col("text").alias("S-score"))
    cells = cast(cells, "S-score", path, missing=("NA",), rejects=rejects)
    rank = pl.col("gene").replace_strict(position, return_dtype=pl.Int64)
    other = pl.col("column").replace_strict(position, return_dtype=pl.Int64)
    cells = cells.with_columns(
        pl.when(rank < other).then(pl.col("gene")).otherwise(pl.col("column")).alias("a_gene"),
        pl.when(rank < other).then(pl.col("column")).otherwise(pl.col("gene")).alias("b_gene"),
    )
    pairs = cells.group_by("a_gene", "b_gene").agg(
        pl.col("S-score").mean().alias("emap_score"),
        pl.col("S-score").drop_nulls().n_unique().alias("_values"),
        pl.col(LINE).filter(pl.col("S-score").is_not_null()).min().alias(LINE),
    )
    measured = pairs.filter(pl.col("emap_score").is_not_null())
    unscored = pairs.height - measured.height
    if rows is not None:
        index, count = rows
        size = -(-table.height // count)
        first, last = table[LINE].min() + index * size, table[LINE].min() + (index + 1) * size
        measured = measured.filter((pl.col(LINE) >= first) & (pl.col(LINE) < last))
        unscored = 0 if index else unscored
    averaged = int((measured["_values"] > 1).sum())
    measured = with_environment(
        measured.sort(LINE, "a_gene", "b_gene"), dataset_of(path), MEDIA, TEMPERATURE
    )
    for side in ("a", "b"):
        if alleles is None:
            measured = measured.with_columns(
                pl.lit("deletion").alias(f"{side}_kind"),
                pl.lit(None, pl.String).alias(f"{side}_allele"),
            )
        else:
            named = alleles.rename(
                {"gene": f"{side}_gene", "kind": f"{side}_kind", "allele": f"{side}_allele"}
            )
            measured = measured.join(named, on=f"{side}_gene", how="left", maintain_order="left")
            measured = measured.with_columns(pl.col(f"{side}_kind").fill_null("deletion"))
        measured = measured.with_columns(pl.lit(None, pl.String).alias(f"{side}_strain"))
    sides = [
        Side("a_gene", "a_kind", "a_allele", "a_strain", "gene"),
        Side("b_gene", "b_kind", "b_allele", "b_strain", "gene"),
    ]
    tables = experiment_tables(measured, sides, path, rejects, unscored)
    notes = {f"{dataset_of(path)}: pairs with two different cells averaged": averaged}
    if alleles is None:
        notes[f"{dataset_of(path)}: no allele table, every gene taken as a deletion"] = 1
    return ExperimentTables(
        tables.path, tables.experiments, tables.perturbations, unscored, {**tables.notes, **notes}
    )


def _screens(files: SourceFiles, rows: tuple[int, int] | None) -> list[ExperimentTables]:
    tables_by_name = {
        re.sub(r"_alleles\.tsv.*$", "", p.name): parse_alleles(p, files.rejects)
        for p in files.paths[1]
    }
    return [
        parse_matrix(p, tables_by_name.get(dataset_of(p)), files.rejects, rows)
        for p in files.paths[0]
    ]


SOURCE = Source(
    "emap", (MATRIX, ALLELES), (None, None), "S-score matrices as published per E-MAP",
    "Schuldiner et al., Cell 123:507 (2005); Collins et al., Nature 446:806 (2007); "
    "S-score: Collins et al., Genome Biol 7:R63 (2006)", "cite the papers",
    home="https://doi.org/10.1016/j.cell.2005.08.031", screens=_screens,
    datasets=tuple(KNOWN.values()), scale="emap",
)  # fmt: skip
