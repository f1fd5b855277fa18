"""E-MAP S-score matrices (Schuldiner et al. 2005, Collins et al. 2007 and later E-MAPs).

An E-MAP is a tab-separated matrix of S-scores: the first header cell is ``gene``, the other
header cells label the *array strains* (columns) and each row's first cell labels a *query
strain*; cells are S-scores or ``NA`` (untested). The unit of a screen is the strain, not the
gene: one gene may label several rows or columns when several of its strains were screened (a
deletion and a DAmP allele, named point alleles), and each strain is its own genotype (gene +
allele, ``torchcell.schema.allele_identity``). The early E-MAPs are square and symmetric (the
queries are the arrays, each unordered pair appears twice, sometimes with a value in one cell
only); later ones are queries × arrays. Both are read the same way: one ``emap_score``
experiment per measured unordered pair of strains (a scale of its own, S ≲ −2.5 aggravating,
S ≳ 2 alleviating; Collins et al., Genome Biol 2006, never mixed with SGA ε; no fitness).

Which strain each label is comes from an allele table (tab, header ``gene	mutation``) beside
the matrix: ``emap_<name>_alleles.tsv`` for a matrix whose rows are its columns, or
``emap_<name>_query_alleles.tsv`` (rows) and ``emap_<name>_array_alleles.tsv`` (columns). A
table lists one line per matrix row or column, in matrix order, whose ``gene`` is that row's or
column's label; where no label repeats it may instead list each label once, in any order
(labels it does not list are deletions). Without a table every strain is a deletion of its
label, and the build says so; a label that repeats with no table to tell its strains apart is
refused. ``mutation`` is:

* ``DELETION``: the deletion of the labelled gene;
* ``DAMP``: its DAmP allele (decreased abundance by mRNA perturbation), kind ``damp``;
* ``delta <ORF>`` (``delta yjl169w`` on a row labelled YJL168C): the deletion of the ORF it
  names, which may be an overlapping neighbour of the labelled one; the perturbed gene is the
  ORF the strain lacks;
* anything else: a named allele of the labelled gene (``POL30-79``), kind ``allele``.

A pair's S-score is the mean of its cells where several cells hold different values (counted
in the build's notes). A pair of two strains of one gene (``POL30-79`` × ``POL30-8``) is not
a double mutant of two genes: it is not loaded, and counted. Files are matched by name:
``emap_<name>_Sscore_matrix.tsv[.gz]`` is dataset ``emap_<name>``. E-MAP colonies are grown on
SGA selection plates at 30 °C.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import polars as pl

from torchcell.errors import SourceError
from torchcell.schema import Dataset
from torchcell.sources.catalog import Source, SourceFiles
from torchcell.sources.experiments import (
    ExperimentTables,
    Side,
    allele_identity_expr,
    experiment_tables,
    with_environment,
)
from torchcell.sources.table import LINE, STRICT, Rejects, cast, read_lines, read_table, require

MATRIX = "emap_*_Sscore_matrix.tsv*"
ALLELES = "emap_*_alleles.tsv*"
MEDIA = "SGA"
TEMPERATURE = 30.0
ALLELE_HEADER = "gene\tmutation"
NEIGHBOUR = r"(?i)^delta[\s_-]*([A-Za-z0-9-]+)$"
"""``delta <ORF>``: the strain lacks the ORF named, whichever gene labels it."""
KNOWN = {
    "emap_schuldiner2005": Dataset(
        name="emap_schuldiner2005", doi="10.1016/j.cell.2005.08.031", version="S-score matrix"
    ),
    "emap_collins2007": Dataset(
        name="emap_collins2007", doi="10.1038/nature05649", version="S-score matrix"
    ),
}
"""E-MAPs whose publication is known; any other ``emap_<name>`` gets a Dataset without a DOI."""
STRAIN = ["gene", "kind", "allele"]


def dataset_of(path: Path) -> str:
    """``emap_<name>`` from ``emap_<name>_Sscore_matrix.tsv.gz``."""
    return re.sub(r"_Sscore_matrix\.tsv.*$", "", Path(path).name)


def allele_table_of(path: Path) -> tuple[str, str | None]:
    """``(emap_<name>, role)`` of an allele table; role ``query``, ``array`` or None (both)."""
    match = re.match(r"^(.*?)(?:_(query|array))?_alleles\.tsv.*$", Path(path).name)
    assert match, path
    return match.group(1), match.group(2)


def parse_alleles(path: Path, rejects: Rejects = STRICT) -> pl.DataFrame:
    """One strain per line of an E-MAP allele table: ``label``, ``gene``, ``kind``, ``allele``.

    ``label`` is the matrix label (the table's ``gene`` column); ``gene`` is the perturbed gene,
    the label's own unless the mutation is ``delta <ORF>``.
    """
    table = read_table(path, ["gene", "mutation"], header=ALLELE_HEADER, rejects=rejects)
    table = require(require(table, "gene", path, rejects), "mutation", path, rejects)
    mutation = pl.col("mutation").str.strip_chars()
    upper = mutation.str.to_uppercase()
    lacks = mutation.str.extract(NEIGHBOUR, 1).str.to_uppercase()
    deleted = (upper == "DELETION") | lacks.is_not_null()
    return table.select(
        pl.col("gene").alias("label"),
        pl.coalesce(lacks, pl.col("gene")).alias("gene"),
        pl.when(deleted)
        .then(pl.lit("deletion"))
        .when(upper == "DAMP")
        .then(pl.lit("damp"))
        .otherwise(pl.lit("allele"))
        .alias("kind"),
        pl.when(deleted)
        .then(None)
        .when(upper == "DAMP")
        .then(pl.concat_str([pl.col("gene"), pl.lit("-damp")]))
        .otherwise(mutation)
        .alias("allele"),
        LINE,
    )


def strains(
    labels: list[str],
    table: pl.DataFrame | None,
    path: Path,
    where: str,
    rejects: Rejects = STRICT,
) -> pl.DataFrame:
    """The strain (``gene``, ``kind``, ``allele``) of each matrix row or column label, in order.

    ``where`` is ``row`` or ``column``, for messages. A table that lists the labels in matrix
    order gives each position its strain; otherwise it is keyed by label, which needs every
    label to be unique.
    """
    frame = pl.DataFrame({"label": labels}, schema={"label": pl.String})
    if table is not None and table["label"].to_list() == labels:
        return table.select(STRAIN)
    twice = sorted(label for label, n in Counter(labels).items() if n > 1)
    if twice:
        shown = ", ".join(twice[:12]) + (f" and {len(twice) - 12} more" if len(twice) > 12 else "")
        if table is None:
            fix = (
                f"add the allele table {dataset_of(path)}_alleles.tsv (header 'gene<TAB>mutation') "
                f"with one line per matrix {where}, in matrix order, saying which strain each is"
            )
        else:
            fix = f"its allele table must list one line per matrix {where}, in matrix order"
            differ = next(
                (i for i, (a, b) in enumerate(zip(table["label"], labels, strict=False)) if a != b),
                min(table.height, len(labels)),
            )
            fix += (
                f" ({table.height} lines for {len(labels)} {where}s; {where} {differ + 1} is "
                f"{labels[differ] if differ < len(labels) else 'past the end'!r}, the table says "
                f"{table['label'][differ] if differ < table.height else 'nothing'!r})"
            )
        raise SourceError(
            path, 1, None, f"{where} label(s) {shown} appear more than once, as several "
            f"strains of one gene; {fix}",
        )  # fmt: skip
    if table is None:
        return frame.select(
            pl.col("label").alias("gene"),
            pl.lit("deletion").alias("kind"),
            pl.lit(None, pl.String).alias("allele"),
        )
    keyed = rejects.drop(
        table, table["label"].is_duplicated() & ~table["label"].is_first_distinct(),
        path, "gene", "{value} is listed twice", values="label",
    )  # fmt: skip
    joined = frame.join(keyed, on="label", how="left", maintain_order="left")
    return joined.select(
        pl.coalesce(pl.col("gene"), pl.col("label")).alias("gene"),
        pl.col("kind").fill_null("deletion"),
        "allele",
    )


def identity(prefix: str = "") -> pl.Expr:
    """Column-wise ``allele_identity`` of the strain columns ``<prefix>gene`` … ``allele``."""
    return allele_identity_expr(*(f"{prefix}{c}" for c in STRAIN))


def parse_matrix(
    path: Path,
    alleles: pl.DataFrame | None = None,
    rejects: Rejects = STRICT,
    rows: tuple[int, int] | None = None,
    *,
    array_alleles: pl.DataFrame | None = None,
) -> ExperimentTables:
    """One ``emap_score`` experiment per measured unordered pair of strains of the matrix.

    ``alleles``: the allele table of the rows, and of the columns too unless ``array_alleles``
    is given (``parse_alleles``). ``rows=(i, n)``: the pairs whose first (row-order) measured
    cell is in the i-th of n slices of the matrix rows, so that shards together hold every pair
    once.
    """
    path = Path(path)
    lines = read_lines(path)
    header = lines["text"][0] if lines.height else None
    if header is None or not header.startswith("gene\t"):
        raise SourceError(
            path, 1, None, f"expected a header starting with 'gene<TAB>', found {header!r}"
        )
    labels = header.split("\t")[1:]
    columns = [f"_c{j}" for j in range(len(labels))]
    table = read_table(path, ["gene", *columns], header=header, rejects=rejects)
    table = require(table, "gene", path, rejects).with_row_index("_row")
    column_table = alleles if array_alleles is None else array_alleles
    arrays = strains(labels, column_table, path, "column", rejects)
    row_labels = table["gene"].to_list()
    if row_labels == labels and column_table is alleles:
        queries = arrays  # a square matrix: its rows are its columns
    else:  # a table read for the columns already reported its bad lines
        seen = Rejects(quarantine=rejects.quarantine) if column_table is alleles else rejects
        queries = strains(row_labels, alleles, path, "row", seen)
    # A strain's rank orders the two sides of a pair: its first column, else after the columns.
    ids = [*arrays.select(identity()).to_series(), *queries.select(identity()).to_series()]
    rank = {}
    for i, key in enumerate(ids):
        rank.setdefault(key, i)
    arrays = arrays.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_col"))
    queries = queries.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"))
    cells = table.unpivot(index=["_row", LINE], on=columns, variable_name="_c", value_name="text")
    cells = cells.with_columns(pl.col("_c").str.slice(2).cast(pl.UInt32).alias("_col"))
    cells = cells.join(queries.rename({c: f"q_{c}" for c in STRAIN}), on="_row")
    cells = cells.join(arrays.rename({c: f"r_{c}" for c in STRAIN}), on="_col")
    cells = cells.with_columns(identity("q_").alias("q_id"), identity("r_").alias("r_id"))
    cells = cells.filter(pl.col("q_id") != pl.col("r_id"))  # a strain with itself: the diagonal
    cells = cells.with_columns(pl.col("text").alias("S-score"))
    cells = cast(cells, "S-score", path, missing=("NA",), rejects=rejects)
    one_gene = pl.col("q_gene") == pl.col("r_gene")
    same_gene = cells.filter(one_gene & pl.col("S-score").is_not_null())
    same_gene_pairs = same_gene.select(
        pl.min_horizontal("q_id", "r_id").alias("a"), pl.max_horizontal("q_id", "r_id").alias("b")
    ).n_unique()
    cells = cells.filter(~one_gene)
    first = pl.col("q_id").replace_strict(rank) < pl.col("r_id").replace_strict(rank)
    cells = cells.with_columns(
        pl.when(first).then(pl.col(f"q_{c}")).otherwise(pl.col(f"r_{c}")).alias(f"a_{c}")
        for c in [*STRAIN, "id"]
    ).with_columns(
        pl.when(first).then(pl.col(f"r_{c}")).otherwise(pl.col(f"q_{c}")).alias(f"b_{c}")
        for c in [*STRAIN, "id"]
    )  # fmt: skip
    pairs = cells.group_by("a_id", "b_id").agg(
        *(pl.col(f"{s}_{c}").first() for s in "ab" for c in STRAIN),
        pl.col("S-score").mean().alias("emap_score"),
        pl.col("S-score").drop_nulls().n_unique().alias("_values"),
        pl.col(LINE).filter(pl.col("S-score").is_not_null()).min().alias(LINE),
    )
    measured = pairs.filter(pl.col("emap_score").is_not_null())
    unscored = pairs.height - measured.height
    if rows is not None:
        index, count = rows
        size = -(-table.height // count)
        start, stop = table[LINE].min() + index * size, table[LINE].min() + (index + 1) * size
        measured = measured.filter((pl.col(LINE) >= start) & (pl.col(LINE) < stop))
        unscored = 0 if index else unscored
        same_gene_pairs = 0 if index else same_gene_pairs
    averaged = int((measured["_values"] > 1).sum())
    measured = with_environment(
        measured.sort(LINE, "a_gene", "b_gene", "a_id", "b_id"),
        dataset_of(path), MEDIA, TEMPERATURE,
    ).with_columns(
        pl.lit(None, pl.String).alias("a_strain"), pl.lit(None, pl.String).alias("b_strain")
    )  # fmt: skip
    sides = [
        Side("a_gene", "a_kind", "a_allele", "a_strain", "gene"),
        Side("b_gene", "b_kind", "b_allele", "b_strain", "gene"),
    ]
    tables = experiment_tables(measured, sides, path, rejects, unscored)
    name = dataset_of(path)
    notes = {
        f"{name}: pairs with two different cells averaged": averaged,
        f"{name}: pairs of two strains of one gene, not loaded": same_gene_pairs,
    }
    if alleles is None and array_alleles is None:
        notes[f"{name}: no allele table, every gene taken as a deletion"] = 1
    return ExperimentTables(
        tables.path, tables.experiments, tables.perturbations, unscored, {**tables.notes, **notes}
    )


def _screens(files: SourceFiles, rows: tuple[int, int] | None) -> list[ExperimentTables]:
    tables: dict[tuple[str, str | None], pl.DataFrame] = {}
    for path in files.paths[1]:
        key = allele_table_of(path)
        if key in tables:
            what = f"{key[1]} strains" if key[1] else "rows and columns"
            raise SourceError(path, None, None, f"a second allele table of {key[0]}'s {what}")
        tables[key] = parse_alleles(path, files.rejects)
    out = []
    for path in files.paths[0]:
        name = dataset_of(path)
        both = tables.get((name, None))
        queries, arrays = tables.get((name, "query"), both), tables.get((name, "array"), both)
        out.append(parse_matrix(path, queries, files.rejects, rows, array_alleles=arrays))
    return out


SOURCE = Source(
    "emap", (MATRIX, ALLELES), (None, None), "S-score matrices as published per E-MAP",
    "Schuldiner et al., Cell 123:507 (2005); Collins et al., Nature 446:806 (2007); "
    "S-score: Collins et al., Genome Biol 7:R63 (2006)", "cite the papers",
    home="https://doi.org/10.1016/j.cell.2005.08.031", screens=_screens,
    datasets=tuple(KNOWN.values()), scale="emap",
)  # fmt: skip
