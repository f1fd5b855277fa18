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

from torchcell.sources.catalog import GITHUB, Source, SourceFiles
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


def _load_physical(files: SourceFiles) -> list[GraphPart]:
    return [
        parse_physical(p, p.stem.removeprefix("physical_"), files.genes, rejects=files.rejects)
        for p in files.paths[0]
    ]


def _load_regulation(files: SourceFiles) -> list[GraphPart]:
    names = files.first(1)
    return [
        parse_regulation(
            p, names, "yeastract_" + p.stem.rsplit("_", 1)[-1], files.genes, files.rejects
        )
        for p in files.paths[0]
    ]


PHYSICAL = Source(
    "physical", ("physical_*.txt*",),
    (f"{GITHUB}/YSHebron/scl-bioinfo/f972e12ddb55024bffebe14b4b78fafa1c24eab5/data/Yeast/Integrated/BIM.txt",),
    "BioGRID ∪ IntAct ∪ MINT union (BIM)", "BioGRID (Oughtred et al. 2021), IntAct, MINT",
    "see each database", ("75a4be9d44dded421bd0f102f4471181b3e252460ec69d00f05c768ed681558f",),
    ("physical_BIM.txt",),
    home="https://github.com/YSHebron/scl-bioinfo", load=_load_physical,
)  # fmt: skip
REGULATION = Source(
    "regulation", ("RegulationTwoColumnTable_*.tsv*", "orftogene.txt"),
    (f"{GITHUB}/itotoma/Yeastract_TF_Network/d9fb670035860edd6f97d953b587e4e0b119b2f2/RegulationTwoColumnTable_both.tsv",
     f"{GITHUB}/itotoma/Yeastract_TF_Network/d9fb670035860edd6f97d953b587e4e0b119b2f2/orftogene.txt"),
    "YEASTRACT documented regulations (DNA binding and expression, 2021 export)",
    "Teixeira et al., NAR (YEASTRACT)", "YEASTRACT terms",
    ("ea0a6d4248ee19e914fce0e91718c8800f7ca7b9ee1ae1c6c09b913e1cd4bd1b",
     "1ea35d0b4f10182e2ed7590360d32744d0a7e393bf172eb17a421107f60355f5"),
    home="http://www.yeastract.com/formregmatrix.php", load=_load_regulation, requires=(0, 1),
)  # fmt: skip
