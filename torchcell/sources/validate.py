"""Checking parsed tables against the pydantic schema on a sample of rows.

Parsers check types and patterns on whole columns; this is the second line of defence: the
first ``head`` rows and ``n`` rows drawn with a fixed seed must each build a valid schema record,
so a parser that drifts from the schema fails on the first build, at a cost independent of the
table's size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from torchcell.errors import SourceError
from torchcell.sources.table import LINE


def sample_rows(table: pl.DataFrame, head: int = 200, n: int = 800, seed: int = 0) -> pl.DataFrame:
    if table.height <= head + n:
        return table
    rest = table.slice(head).sample(n, seed=seed)
    return pl.concat([table.head(head), rest])


def validate_sample(
    table: pl.DataFrame, path: Path, columns: list[str], build: Callable[[dict[str, Any]], object]
) -> None:
    """Call ``build`` (which constructs schema records) on a sample of rows.

    ``build`` receives each sampled row as a dict of ``columns``; the first pydantic
    ValidationError becomes a SourceError naming the row's line and the failing field.
    """
    for row in sample_rows(table).select([*columns, LINE]).iter_rows(named=True):
        line = row.pop(LINE)
        try:
            build(row)
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or None
            raise SourceError(path, line, field, first["msg"]) from None
