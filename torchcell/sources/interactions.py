"""Gene–gene networks given as edge lists: physical interactions and gene regulation.

* Physical (``PHYSICAL``): weighted pair lists ``ORF ORF weight`` (space or tab separated, no
  header), such as the BioGRID ∪ IntAct ∪ MINT union (BIM) or the Collins / Krogan / Gavin
  complexes networks. Pairs are undirected: stored once, lower id first; a pair listed again
  (in either order) is merged into the first and counted.
* Regulation (``REGULATES``): YEASTRACT's ``TF;TARGET`` table of standard names, mapped to
  systematic names with YEASTRACT's ``Name<TAB>ORF`` table.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.sources.parts import GraphPart
from torchcell.sources.table import LINE, STRICT, Rejects, cast, read_table, repeated, require

ORF_NAME_HEADER = "Name\tORF"


def _known(
    table: pl.DataFrame, column: str, genes: pl.DataFrame, path: Path, rejects: Rejects
) -> pl.DataFrame:
    return rejects.drop(
        table,
        ~table[column].is_in(genes["id"].implode()),
        path,
        column,
        "gene {value} is not in the genome",
    )


def parse_physical(
    path: Path, source: str, genes: pl.DataFrame, separator: str = " ", rejects: Rejects = STRICT
) -> GraphPart:
    """``PHYSICAL`` links (``source``, ``score``) from a weighted pair list."""
    table = read_table(path, ["gene_a", "gene_b", "score"], separator=separator, rejects=rejects)
    table = cast(table, "score", path, required=True, rejects=rejects)
    for column in ("gene_a", "gene_b"):
        table = require(table, column, path, rejects)
        table = _known(table, column, genes, path, rejects)
    table = table.select(
        pl.min_horizontal("gene_a", "gene_b").alias("start"),
        pl.max_horizontal("gene_a", "gene_b").alias("end"),
        "score",
        LINE,
    )
    again = repeated(table, "start", "end")
    links = table.filter(~again).select("start", "end", pl.lit(source).alias("source"), "score")
    return GraphPart(
        relationships={"PHYSICAL": links},
        notes={f"{source}: repeated pairs merged": int(again.sum())},
    )


def parse_regulation(
    path: Path, names: Path, source: str, genes: pl.DataFrame, rejects: Rejects = STRICT
) -> GraphPart:
    """``REGULATES`` regulator → target links from YEASTRACT's two-column table."""
    mapping = read_table(names, ["name", "orf"], header=ORF_NAME_HEADER, rejects=rejects)
    mapping = require(require(mapping, "name", names, rejects), "orf", names, rejects)
    mapping = rejects.drop(
        mapping, repeated(mapping, "name"), names, "Name", "{value} is listed twice", values="name"
    )
    table = read_table(path, ["regulator", "target"], separator=";", rejects=rejects)
    for column in ("regulator", "target"):
        table = require(table, column, path, rejects)
        table = table.join(
            mapping.select(pl.col("name").alias(column), pl.col("orf").alias(f"{column}_orf")),
            on=column,
            how="left",
        )
        table = rejects.drop(
            table,
            table[f"{column}_orf"].is_null(),
            path,
            column,
            f"{{value}} is not in {names.name}",
        )
        table = _known(table, f"{column}_orf", genes, path, rejects)
    again = repeated(table, "regulator_orf", "target_orf")
    links = table.filter(~again).select(
        pl.col("regulator_orf").alias("start"),
        pl.col("target_orf").alias("end"),
        pl.lit(source).alias("source"),
    )
    return GraphPart(
        relationships={"REGULATES": links},
        notes={f"{source}: repeated pairs merged": int(again.sum())},
    )
