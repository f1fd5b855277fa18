"""Reading delimited text files column-wise, with errors that name file, line and field.

Every source parser goes through ``read_table`` and ``to_float`` / ``to_int``. The file is read
as raw lines by polars (gzip is handled transparently), the field count of every line is checked
in one vectorized pass, and the lines are split into string columns. Type conversion is also
vectorized; only when it fails do we look at individual rows, to report the first bad one.
Nothing is ever dropped without being reported: a line is either a record, a comment, a blank
line, or an error.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.errors import SourceError

LINE = "_line"
"""Column added to every table: the 1-based line number of the row in its file."""


def read_table(
    path: Path,
    columns: list[str],
    *,
    separator: str = "\t",
    header: str | None = None,
    comment_prefix: str | None = None,
) -> pl.DataFrame:
    """Read ``path`` into string columns named ``columns`` plus ``_line``.

    ``header``: when given, the first line must equal it exactly (after stripping a trailing
    ``\\r``), so a file with a changed layout is rejected instead of misread. Blank lines and
    lines starting with ``comment_prefix`` are skipped. Every other line must have exactly
    ``len(columns)`` fields. Empty fields become null.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(path, None, None, "file not found")
    try:
        raw = pl.read_csv(
            path,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            new_columns=["text"],
            infer_schema=False,
        )
    except pl.exceptions.NoDataError:
        raw = pl.DataFrame({"text": []}, schema={"text": pl.String})
    lines = raw.with_columns(
        pl.col("text").str.strip_suffix("\r"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(LINE),
    )
    if header is not None:
        first = lines["text"][0] if lines.height else None
        if first != header:
            raise SourceError(
                path, 1, None, f"unexpected header: expected {header!r}, found {first!r}"
            )
        lines = lines.slice(1)
    keep = pl.col("text").is_not_null() & (pl.col("text").str.strip_chars() != "")
    if comment_prefix is not None:
        keep &= ~pl.col("text").str.starts_with(comment_prefix)
    lines = lines.filter(keep)

    n_sep = len(columns) - 1
    counts = lines.select(pl.col("text").str.count_matches(separator, literal=True), LINE)
    bad = counts.filter(pl.col("text") != n_sep)
    if bad.height:
        line, found = bad[LINE][0], bad["text"][0] + 1
        raise SourceError(
            path,
            line,
            None,
            f"expected {len(columns)} fields separated by {separator!r}, found {found}"
            f" ({bad.height} such line(s) in the file)",
        )
    fields = pl.col("text").str.split_exact(separator, n_sep).struct.rename_fields(columns)
    table = lines.select(fields.alias("f"), LINE).unnest("f")
    return table.with_columns(
        [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in columns]
    )


def _convert(
    table: pl.DataFrame,
    column: str,
    dtype: pl.DataType,
    path: Path,
    *,
    missing: tuple[str, ...],
    required: bool,
    what: str,
) -> pl.Series:
    text = table[column]
    is_missing = text.is_null() | text.is_in(list(missing))
    values = text.str.strip_chars().cast(dtype, strict=False)
    if dtype.is_float():
        # "NaN"/"inf" parse as floats; only the declared missing tokens may stand for no value.
        values = values.set(values.is_nan() | values.is_infinite(), None)
    wrong = ~is_missing & values.is_null()
    if required:
        wrong |= is_missing
    if wrong.any():
        i = wrong.arg_max()
        value = text[i]
        problem = (
            "missing value" if value is None or value in missing else f"{value!r} is not {what}"
        )
        raise SourceError(path, int(table[LINE][i]), column, problem)
    return values.set(is_missing, None)


def to_float(
    table: pl.DataFrame,
    column: str,
    path: Path,
    *,
    missing: tuple[str, ...] = (),
    required: bool = False,
) -> pl.Series:
    """Column ``column`` as Float64; tokens in ``missing`` become null, anything else unparsable is an error."""
    return _convert(
        table, column, pl.Float64, path, missing=missing, required=required, what="a finite number"
    )


def to_int(
    table: pl.DataFrame,
    column: str,
    path: Path,
    *,
    missing: tuple[str, ...] = (),
    required: bool = False,
) -> pl.Series:
    """Column ``column`` as Int64; tokens in ``missing`` become null, anything else unparsable is an error."""
    return _convert(
        table, column, pl.Int64, path, missing=missing, required=required, what="an integer"
    )


def require(table: pl.DataFrame, column: str, path: Path) -> None:
    """Every row must have a value in ``column``."""
    missing = table[column].is_null()
    if missing.any():
        raise SourceError(path, int(table[LINE][missing.arg_max()]), column, "missing value")


def check_pattern(table: pl.DataFrame, column: str, pattern: str, path: Path, what: str) -> None:
    """Every non-null value in ``column`` must match the regex ``pattern``."""
    values = table[column]
    wrong = values.is_not_null() & ~values.str.contains(pattern)
    if wrong.any():
        i = wrong.arg_max()
        raise SourceError(path, int(table[LINE][i]), column, f"{values[i]!r} is not {what}")
