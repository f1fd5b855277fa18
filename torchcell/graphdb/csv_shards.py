"""neo4j-admin CSV files: one header file per label/type, data files without header per shard.

The same files feed both loaders: ``neo4j-admin database import full`` (bulk) takes the header
and the shards' data files as one group; the online loader reads them back with ``read_part``.
List properties are joined with ``|`` (``--array-delimiter``); null is an empty field.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from torchcell.graphdb.model import (
    ARRAY_DELIMITER,
    NODES,
    RELATIONSHIPS,
    csv_schema,
    node_columns,
    node_header,
    rel_columns,
    rel_header,
)

HEADERS = "headers"


def columns_of(name: str) -> tuple[list[str], dict[str, str]]:
    """Column names and property types of a node label or relationship type."""
    if name in NODES:
        node = NODES[name]
        return node_columns(name), node.properties
    return rel_columns(name), RELATIONSHIPS[name].properties


def prepare(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in the column order of ``name``; absent properties null, lists joined."""
    columns, types = columns_of(name)
    exprs = []
    for column in columns:
        expr = pl.col(column) if column in frame.columns else pl.lit(None, dtype=pl.String)
        if types.get(column) == "string[]" and column in frame.columns:
            expr = expr.list.join(ARRAY_DELIMITER)
        exprs.append(expr.alias(column))
    return frame.select(exprs)


def write_part(path: Path, name: str, frame: pl.DataFrame) -> int:
    """Write ``frame`` to ``path`` in the CSV layout of label/type ``name`` (no header)."""
    prepare(name, frame).write_csv(path, include_header=False, null_value="")
    return frame.height


def read_part(path: Path, name: str) -> pl.DataFrame:
    columns, types = columns_of(name)
    frame = pl.read_csv(
        path,
        has_header=False,
        new_columns=columns,
        schema=csv_schema(columns, types),
        null_values=[""],
    )
    lists = [c for c in columns if types.get(c) == "string[]"]
    return frame.with_columns(pl.col(c).str.split(ARRAY_DELIMITER).fill_null([]) for c in lists)


def write_headers(build_dir: Path) -> Path:
    directory = Path(build_dir) / HEADERS
    directory.mkdir(parents=True, exist_ok=True)
    for label in NODES:
        _write_header(directory / f"{label}.csv", node_header(label))
    for rel in RELATIONSHIPS:
        _write_header(directory / f"{rel}.csv", rel_header(rel))
    return directory


def _write_header(path: Path, fields: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(fields)
