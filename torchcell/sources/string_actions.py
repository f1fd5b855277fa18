"""STRING "actions" (Szklarczyk et al., NAR 2019, v11): gene networks by mode of action.

``4932.protein.actions.v11.0.txt[.gz]``, tab-separated with the header ``item_id_a item_id_b
mode action is_directional a_is_acting score``; ids are ``4932.<systematic name>``; ``mode`` is
binding, reaction, catalysis, activation, inhibition, ptmod or expression; the score is
0–1000. Pairs appear in both orders, a directional action once from each side.

One ``STRING`` link per unordered pair and mode (lower id first), with the pair's highest
score (scaled to 0–1) and ``direction``: ``forward`` (start acts on end), ``reverse``,
``both`` or ``none``. These are the networks Dango pre-trains on and optional HeteroCell edges.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.sources.catalog import Source, SourceFiles
from torchcell.sources.parts import GraphPart
from torchcell.sources.table import LINE, STRICT, Rejects, cast, check_pattern, read_table, require

COLUMNS = ["item_id_a", "item_id_b", "mode", "action", "is_directional", "a_is_acting", "score"]
MODES = ("binding", "reaction", "catalysis", "activation", "inhibition", "ptmod", "expression")
YEAST = "4932."


def parse_actions(path: Path, genes: pl.DataFrame, rejects: Rejects = STRICT) -> GraphPart:
    table = read_table(path, COLUMNS, header="\t".join(COLUMNS), rejects=rejects)
    for column in ("item_id_a", "item_id_b"):
        table = require(table, column, path, rejects)
        table = check_pattern(
            table, column, r"^4932\.", path, "a yeast STRING id (4932.<ORF>)", rejects
        )
        table = table.with_columns(pl.col(column).str.strip_prefix(YEAST))
        table = rejects.drop(
            table, ~table[column].is_in(genes["id"].implode()), path, column,
            "gene {value} is not in the genome",
        )  # fmt: skip
    table = check_pattern(table, "mode", f"^({'|'.join(MODES)})$", path, "a STRING mode", rejects)
    for column in ("is_directional", "a_is_acting"):
        table = check_pattern(table, column, "^[tf]$", path, "t or f", rejects)
    table = cast(table, "score", path, required=True, rejects=rejects)
    table = rejects.drop(
        table, (table["score"] < 0) | (table["score"] > 1000), path, "score", "{value} is not in 0–1000"
    )  # fmt: skip
    a, b = pl.col("item_id_a"), pl.col("item_id_b")
    acting = (pl.col("is_directional") == "t") & (pl.col("a_is_acting") == "t")
    links = (
        table.with_columns(
            pl.min_horizontal(a, b).alias("start"),
            pl.max_horizontal(a, b).alias("end"),
            (acting & (a <= b)).alias("_forward"),
            (acting & (a > b)).alias("_reverse"),
        )
        .group_by("start", "end", "mode", maintain_order=True)
        .agg(
            (pl.col("score").max() / 1000).alias("score"),
            pl.col("_forward").any(),
            pl.col("_reverse").any(),
            pl.col(LINE).min(),
        )
        .sort(LINE)
    )
    direction = (
        pl.when(pl.col("_forward") & pl.col("_reverse"))
        .then(pl.lit("both"))
        .when(pl.col("_forward"))
        .then(pl.lit("forward"))
        .when(pl.col("_reverse"))
        .then(pl.lit("reverse"))
        .otherwise(pl.lit("none"))
    )
    links = links.select("start", "end", "mode", "score", direction.alias("direction"))
    return GraphPart(
        relationships={"STRING": links},
        notes={"string: rows merged into one link per pair and mode": table.height - links.height},
    )


def _load(files: SourceFiles) -> list[GraphPart]:
    return [parse_actions(p, files.genes, files.rejects) for p in files.paths[0]]


SOURCE = Source(
    "string", ("*.protein.actions.v11*.txt*",),
    ("https://raw.githubusercontent.com/jameszha/pyOnto2Vec/8098fbbddadc37299a1ae8938bf5ef303095a320/data/yeast/datasets/4932.protein.actions.v11.0.txt.gz",),
    "STRING v11.0 actions (4932, downloaded 2019-06-03)", "Szklarczyk et al., NAR 47:D607 (2019)",
    "CC BY 4.0", ("5706744abb7af6082562d00282837dbd95ac9ef26c64eb313a96543e78a394f4",), home="https://version-11-0.string-db.org/cgi/download", load=_load,
)  # fmt: skip
