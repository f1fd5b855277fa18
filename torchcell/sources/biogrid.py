"""BioGRID physical interactions from a TAB 3.0 release file (S. cerevisiae S288C).

The file is tab-separated with one header line (``#BioGRID Interaction ID`` first). Columns
are found by name, so a release that adds columns still reads; a missing one is an error
naming it. Kept: rows whose ``Experimental System Type`` is ``physical`` and whose two
``Organism ID`` columns are 559292 (S288C); the others are counted in the build notes. Each
gene pair becomes one undirected ``PHYSICAL{source: "biogrid"}`` link (lower id first) with
the number of evidence rows as ``score`` and the sorted, distinct ``systems`` (experimental
systems) and ``publications`` (``Publication Source``, e.g. ``PUBMED:12345``) behind it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.errors import SourceError
from torchcell.sources.catalog import Source
from torchcell.sources.parts import GraphPart
from torchcell.sources.table import LINE, STRICT, Rejects, read_lines, read_table, require

S288C = "559292"
COLUMNS = {
    "Systematic Name Interactor A": "gene_a",
    "Systematic Name Interactor B": "gene_b",
    "Experimental System": "system",
    "Experimental System Type": "system_type",
    "Publication Source": "publication",
    "Organism ID Interactor A": "organism_a",
    "Organism ID Interactor B": "organism_b",
}


def _header(path: Path) -> list[str]:
    lines = read_lines(path)
    header = lines["text"][0] if lines.height else None
    if header is None or not header.startswith("#BioGRID Interaction ID"):
        raise SourceError(
            path, 1, None, "not a BioGRID TAB 3.0 file: no '#BioGRID Interaction ID' header"
        )
    names = header.split("\t")
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise SourceError(
            path, 1, missing[0], f"column missing from the header (also: {missing[1:]})"
        )
    return names


def parse_biogrid(path: Path, genes: pl.DataFrame, rejects: Rejects = STRICT) -> GraphPart:
    path = Path(path)
    names = _header(path)
    columns = [COLUMNS.get(name, f"_unused{i}") for i, name in enumerate(names)]
    table = read_table(path, columns, header="\t".join(names), rejects=rejects)
    table = table.select(*COLUMNS.values(), LINE)
    kept = (
        (pl.col("system_type") == "physical")
        & (pl.col("organism_a") == S288C)
        & (pl.col("organism_b") == S288C)
    )
    other = table.filter(~kept.fill_null(False)).height
    table = table.filter(kept.fill_null(False))
    for column in ("gene_a", "gene_b", "system"):
        table = require(table, column, path, rejects)
    for column in ("gene_a", "gene_b"):
        table = rejects.drop(
            table, ~table[column].is_in(genes["id"].implode()), path,
            next(k for k, v in COLUMNS.items() if v == column), "gene {value} is not in the genome",
            values=column,
        )  # fmt: skip
    links = (
        table.with_columns(
            pl.min_horizontal("gene_a", "gene_b").alias("start"),
            pl.max_horizontal("gene_a", "gene_b").alias("end"),
        )
        .group_by("start", "end", maintain_order=True)
        .agg(
            pl.len().cast(pl.Float64).alias("score"),
            pl.col("system").unique().sort().alias("systems"),
            pl.col("publication").drop_nulls().unique().sort().alias("publications"),
        )
        .with_columns(pl.lit("biogrid").alias("source"))
    )
    return GraphPart(
        relationships={"PHYSICAL": links},
        notes={
            "biogrid: genetic or non-S288C rows left out": other,
            "biogrid: evidence rows merged into one link per pair": table.height - links.height,
        },
    )


SOURCE = Source(
    "biogrid", ("BIOGRID-*.tab3.txt*",), (None,), "TAB 3.0 release file (organism S288C)",
    "BioGRID (Oughtred et al., Protein Sci 2021)", "MIT (BioGRID data)",
    home="https://downloads.thebiogrid.org/BioGRID/Release-Archive/",
    load=lambda files: [parse_biogrid(p, files.genes, files.rejects) for p in files.paths[0]],
)  # fmt: skip
