"""Reading delimited text files column-wise, with errors that name file, line and field.

Every source parser goes through ``read_table`` and the checks below. The file is read as raw
lines by polars (gzip is handled transparently), the field count of every line is checked in
one vectorized pass, and the lines are split into string columns. Type conversion is also
vectorized; only rows that fail are looked at one by one.

A check never drops a row silently. With the default ``Rejects()`` the first bad row raises a
SourceError; with ``Rejects(quarantine=True)`` every bad row is recorded (file, line, field,
problem) and left out, and the build writes the records to a quarantine file and reports their
count.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from torchcell.errors import SourceError

LINE = "_line"
"""Column added to every table: the 1-based line number of the row in its file."""


@dataclass
class Rejects:
    """What to do with bad rows: raise at the first (default) or record them all and drop them."""

    quarantine: bool = False
    rows: list[tuple[str, int | None, str | None, str]] = field(default_factory=list)

    def drop(
        self,
        table: pl.DataFrame,
        bad: pl.Series,
        path: Path,
        column: str | None,
        problem: str,
        values: str | None = None,
    ) -> pl.DataFrame:
        """Handle the rows where ``bad`` is true; return ``table`` without them.

        ``problem`` may contain ``{value}`` (quoted) or ``{number}`` (as is), replaced by the
        row's value of column ``values`` (default: ``column``).
        """
        # A null in ``bad`` (a comparison with a missing value) is not a verdict: such rows stay,
        # and the parser's ``require`` checks are what reject missing values.
        bad = bad.fill_null(False)
        if not bad.any():
            return table
        values = values or column
        if not self.quarantine:
            i = bad.arg_max()
            value = table[values][i] if values else None
            text = problem.replace("{value}", short(repr(value))).replace(
                "{number}", short(str(value))
            )
            raise SourceError(path, _line(table, i), column, text)
        failed = table.filter(bad)
        placeholder = next((p for p in ("{value}", "{number}") if p in problem), None)
        if values and placeholder:
            quote = "'" if placeholder == "{value}" else ""
            head, tail = problem.split(placeholder, 1)
            text = pl.concat_str(
                [
                    pl.lit(head + quote),
                    pl.col(values).cast(pl.String).fill_null("None").str.slice(0, MAX_SHOWN),
                    pl.lit(quote + tail),
                ]
            )
            messages = failed.select(text).to_series().to_list()
        else:
            messages = [problem] * failed.height
        lines = failed[LINE].to_list() if LINE in failed.columns else [None] * failed.height
        self.rows.extend(
            (str(path), line, column, msg) for line, msg in zip(lines, messages, strict=True)
        )
        return table.filter(~bad)

    def write(self, path: Path) -> None:
        pl.DataFrame(
            self.rows, schema=["file", "line", "field", "problem"], orient="row"
        ).write_csv(path, separator="\t")


MAX_SHOWN = 80
"""Characters of a bad value an error message echoes (a 1 MB bad id is not printed whole)."""
MAX_FIELD = 10_000
"""The longest field a source may hold; a longer one is a bad row, not a 1 MB property."""


def short(text: str) -> str:
    if len(text) <= MAX_SHOWN:
        return text
    return f"{text[:MAX_SHOWN]}… ({len(text):,} characters)"


def _line(table: pl.DataFrame, i: int) -> int | None:
    return int(table[LINE][i]) if LINE in table.columns else None


MAX_LINE = 8 << 20
"""The longest line a source may hold (8 MiB: a 100,000-column matrix row fits); a longer one
is refused before the file is read, so a file of one endless line cannot exhaust memory."""
LONG_LINE = f"line longer than {MAX_LINE:,} bytes; not a table of this format. Replace it"
MAX_RATIO = 100
"""How many times its size a gzipped source may decompress to (published tables: under 15)."""
MIN_ALLOWED = 256 << 20
"""Bytes any gzipped source may decompress to, whatever its ratio."""
CHUNK = 1 << 20


def check_bounded(path: Path) -> None:
    """Stream ``path`` once (decompressing a gzip file) in bounded memory and refuse, with a
    SourceError, a line longer than MAX_LINE or a gzip file that decompresses to more than
    MAX_RATIO times its size (a decompression bomb)."""
    gzipped = is_gzipped(path)
    allowed = max(MAX_RATIO * path.stat().st_size, MIN_ALLOWED) if gzipped else None
    with gzip.open(path) if gzipped else path.open("rb") as stream:
        _check_lines(stream, path, allowed=allowed)


def _check_lines(stream, path: Path, length: int | None = None, line: int = 1, allowed=None):
    """Read ``stream`` in chunks (``length`` bytes, or to its end); a SourceError for a line over
    MAX_LINE (``line``: the number of the first line read) or more than ``allowed`` bytes."""
    total = since_newline = 0
    while (length is None or total < length) and (
        chunk := stream.read(CHUNK if length is None else min(CHUNK, length - total))
    ):
        total += len(chunk)
        if allowed is not None and total > allowed:
            raise SourceError(
                path, None, None,
                f"decompresses to more than {allowed:,} bytes ({MAX_RATIO}× its "
                f"{path.stat().st_size:,}); not a published table (a damaged or hostile file?). "
                "Replace it",
            )  # fmt: skip
        first = chunk.find(b"\n")
        if (first if first >= 0 else len(chunk)) + since_newline > MAX_LINE:
            raise SourceError(path, line, None, LONG_LINE)
        if first >= 0:
            line += chunk.count(b"\n")
            since_newline = len(chunk) - chunk.rfind(b"\n") - 1
        else:
            since_newline += len(chunk)


STRICT = Rejects()
"""Shared strict policy: it never records, so sharing it is safe."""


def read_lines(path: Path) -> pl.DataFrame:
    """Every line of the file as ``text`` (null when blank) with its 1-based ``_line``.

    The fast path lets polars split the (possibly gzipped) file on newlines by reading it as
    one column; a line containing that column's separator byte (``\\x1f``) or invalid UTF-8
    makes polars refuse, and then the file is split in Python, which also finds the line
    with invalid UTF-8 for the error message. An ``.xlsx`` workbook (as some publishers ship
    their tables) is read as the tab-separated lines of its first sheet.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(path, None, None, "file not found")
    try:
        if path.suffix == ".xlsx":
            raw = pl.DataFrame({"text": _xlsx_lines(path)}, schema={"text": pl.String})
        else:
            check_bounded(path)
            raw = _text_lines(path)
    except SourceError:
        raise
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, pl.exceptions.PolarsError) as err:
        raise SourceError(
            path, None, None,
            f"cannot be read ({type(err).__name__}: {short(str(err))}); is it truncated or not "
            "the published file? Download it again (tc fetch-sources) or replace it",
        ) from None  # fmt: skip
    return raw.with_columns(
        pl.col("text").str.strip_suffix("\r"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(LINE),
    )


def _text_lines(path: Path) -> pl.DataFrame:
    try:
        return _polars_lines(path)
    except pl.exceptions.NoDataError:
        return pl.DataFrame({"text": []}, schema={"text": pl.String})
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError, pl.exceptions.ShapeError):
        # a line holding the column separator byte, or invalid UTF-8: split in Python
        return pl.DataFrame({"text": _split_in_python(path)}, schema={"text": pl.String})


def _polars_lines(source) -> pl.DataFrame:
    """A file (or bytes) as one string column ``text``, split on newlines by polars."""
    return pl.read_csv(
        source,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        new_columns=["text"],
        infer_schema=False,
    )


def is_gzipped(path: Path) -> bool:
    with Path(path).open("rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


def is_plain_text(path: Path) -> bool:
    """Neither gzipped nor a workbook: a file whose byte ranges can be read on their own."""
    return Path(path).suffix != ".xlsx" and not is_gzipped(path)


def _line_start(stream, offset: int, path: Path) -> int:
    """The offset of the first line that starts at or after ``offset``."""
    if offset == 0:
        return 0
    stream.seek(offset - 1)
    rest = stream.readline(MAX_LINE + 1)
    if len(rest) > MAX_LINE:
        raise SourceError(path, None, None, LONG_LINE)
    return offset - 1 + len(rest)


def _newlines_before(stream, offset: int) -> int:
    stream.seek(0)
    count = 0
    while offset > 0 and (chunk := stream.read(min(CHUNK, offset))):
        count += chunk.count(b"\n")
        offset -= len(chunk)
    return count


def shard_lines(path: Path, index: int, count: int) -> tuple[pl.DataFrame, str | None]:
    """Shard ``index`` of ``count`` of a plain-text file, read alone: the lines that start in
    the shard's equal byte range (each line falls in exactly one shard), as ``read_lines``
    gives them with their line numbers in the file, and the file's first line (its header;
    None when blank). Memory holds one shard, never the file."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as stream:
        first = stream.readline(MAX_LINE + 1)
        if len(first) > MAX_LINE:
            raise SourceError(path, 1, None, LONG_LINE)
        start = _line_start(stream, index * size // count, path)
        end = _line_start(stream, (index + 1) * size // count, path)
        first_line = 1 + _newlines_before(stream, start)
        stream.seek(start)
        _check_lines(stream, path, end - start, first_line)
        stream.seek(start)
        data = stream.read(end - start)
    try:
        header = first.decode("utf-8").rstrip("\n").rstrip("\r") or None
    except UnicodeDecodeError as err:
        raise SourceError(path, 1, None, f"not valid UTF-8 text ({err.reason})") from None
    try:
        raw = (
            _polars_lines(data) if data else pl.DataFrame({"text": []}, schema={"text": pl.String})
        )
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError, pl.exceptions.ShapeError):
        raw = pl.DataFrame(
            {"text": _split_bytes(data, path, first_line)}, schema={"text": pl.String}
        )
    lines = raw.with_columns(
        pl.col("text").str.strip_suffix("\r"),
        pl.int_range(first_line, first_line + pl.len(), dtype=pl.Int64).alias(LINE),
    )
    return lines, header


def _xlsx_lines(path: Path) -> list[str | None]:
    """The first sheet of a workbook as tab-separated lines, one per spreadsheet row.

    Numbers are written as Python writes them (``repr``), empty cells as empty fields, so a
    published ``.xlsx`` reads exactly like its TSV export and errors name the sheet's row.
    """
    import openpyxl  # only workbooks need it; keeps 0.1 s off every parser process's start

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise SourceError(path, None, None, f"not a readable .xlsx workbook ({err})") from None
    try:
        sheet = book.worksheets[0]
        lines = []
        for row in sheet.iter_rows(values_only=True):
            cells = ["" if v is None else repr(v) if isinstance(v, float) else str(v) for v in row]
            lines.append("\t".join(cells) if any(cells) else None)
        return lines
    finally:
        book.close()


def _split_in_python(path: Path) -> list[str | None]:
    data = gzip.open(path).read() if is_gzipped(path) else path.read_bytes()
    return _split_bytes(data, path)


def _split_bytes(data: bytes, path: Path, first_line: int = 1) -> list[str | None]:
    """``data`` split on newlines (None for a blank line); invalid UTF-8 is a SourceError naming
    the line (``first_line`` is the number of data's first line in the file)."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out: list[str | None] = []
    for number, line in enumerate(lines, start=first_line):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SourceError(path, number, None, f"not valid UTF-8 text ({err.reason})") from None
        out.append(text if text.strip("\r") else None)
    return out


def header_problem(expected: str, found: str, separator: str) -> str:
    """What differs between an expected and a found header, by column name."""
    want, have = expected.split(separator), found.split(separator)
    missing = [c for c in want if c not in have]
    extra = [c for c in have if c not in want]
    if missing or extra:
        parts = [f"missing column(s) {', '.join(map(repr, missing))}" if missing else ""]
        parts.append(f"unexpected column(s) {', '.join(map(repr, extra))}" if extra else "")
        return "unexpected header: " + "; ".join(p for p in parts if p)
    return f"unexpected header: the columns are in another order ({short(found)!r})"


def content_lines(lines: pl.DataFrame, comment_prefix: str | None = None) -> pl.DataFrame:
    """``lines`` without blank lines and lines starting with ``comment_prefix``."""
    keep = pl.col("text").is_not_null() & (pl.col("text").str.strip_chars() != "")
    if comment_prefix is not None:
        keep &= ~pl.col("text").str.starts_with(comment_prefix)
    return lines.filter(keep)


def read_table(
    path: Path,
    columns: list[str],
    *,
    separator: str = "\t",
    header: str | None = None,
    comment_prefix: str | None = None,
    rejects: Rejects = STRICT,
    rows: tuple[int, int] | None = None,
) -> pl.DataFrame:
    """Read ``path`` into string columns named ``columns`` plus ``_line``.

    ``header``: when given, the first line must equal it exactly, so a file with a changed layout
    is rejected instead of misread. Blank lines and lines starting with ``comment_prefix`` are
    skipped. Every other line must have exactly ``len(columns)`` fields. Empty fields become
    null. ``rows=(i, n)`` keeps only shard i of n: the lines starting in the i-th of n equal byte
    ranges of a plain-text file (read alone, ``shard_lines``), or the i-th of n equal slices of
    the data rows of a gzipped file or a workbook (read whole).
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(path, None, None, "file not found")
    sharded = rows is not None and is_plain_text(path)
    if sharded:  # each shard reads its own byte range of the file
        lines, found = shard_lines(path, *rows)
    else:
        lines = read_lines(path)
        found = lines["text"][0] if lines.height else None
    if header is not None:
        if found is None:
            raise SourceError(path, 1, None, f"the file is empty; expected the header {header!r}")
        if found != header:
            raise SourceError(path, 1, None, header_problem(header, found, separator))
        lines = lines.filter(pl.col(LINE) > 1)
    lines = content_lines(lines, comment_prefix)
    if rows is not None and not sharded:
        index, count = rows
        size = -(-lines.height // count)
        lines = lines.slice(index * size, size)

    n_sep = len(columns) - 1
    found = lines["text"].str.count_matches(separator, literal=True)
    lines = rejects.drop(
        lines.with_columns((found + 1).cast(pl.String).alias("_fields")),
        found != n_sep,
        path,
        None,
        f"expected {len(columns)} fields separated by {separator!r}, found {{value}}",
        values="_fields",
    ).drop("_fields")
    lines = rejects.drop(
        lines.with_columns(pl.col("text").str.len_chars().cast(pl.String).alias("_chars")),
        lines["text"].str.len_bytes() > 4 * MAX_FIELD * len(columns),
        path, None, f"line of {{number}} characters (fields hold at most {MAX_FIELD:,})",
        values="_chars",
    ).drop("_chars")  # fmt: skip
    fields = pl.col("text").str.split_exact(separator, n_sep).struct.rename_fields(columns)
    table = lines.select(fields.alias("f"), LINE).unnest("f")
    if (lines["text"].str.len_bytes() > MAX_FIELD).any():  # only then can a field be too long
        for column in columns:
            table = rejects.drop(
                table, table[column].str.len_chars() > MAX_FIELD, path, column,
                f"field of more than {MAX_FIELD:,} characters",
            )  # fmt: skip
    return table.with_columns(
        [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in columns]
    )


def require(
    table: pl.DataFrame, column: str, path: Path, rejects: Rejects = STRICT
) -> pl.DataFrame:
    """Rows without a value in ``column`` are bad."""
    return rejects.drop(table, table[column].is_null(), path, column, "missing value")


def check_pattern(
    table: pl.DataFrame, column: str, pattern: str, path: Path, what: str, rejects: Rejects = STRICT
) -> pl.DataFrame:
    """Rows whose non-null ``column`` does not match the regex ``pattern`` are bad."""
    values = table[column]
    bad = values.is_not_null() & ~values.str.contains(pattern)
    return rejects.drop(table, bad, path, column, f"{{value}} is not {what}")


def cast(
    table: pl.DataFrame,
    column: str,
    path: Path,
    dtype: pl.DataType = pl.Float64,
    *,
    missing: tuple[str, ...] = (),
    required: bool = False,
    rejects: Rejects = STRICT,
) -> pl.DataFrame:
    """``column`` as a number (Float64 or Int64).

    Tokens in ``missing`` become null; an empty field is null unless ``required``; anything
    else that does not parse (and for floats NaN or infinity written out) is a bad row.
    """
    what = "a finite number" if dtype.is_float() else "an integer"
    text = table[column]
    is_missing = text.is_null() | text.is_in(list(missing))
    values = text.str.strip_chars().cast(dtype, strict=False)
    if dtype.is_float():
        # "NaN"/"inf" parse as floats; only the declared missing tokens may stand for no value.
        values = values.set(values.is_nan() | values.is_infinite(), None)
    if required:
        table = rejects.drop(table, is_missing, path, column, "missing value")
        keep = ~is_missing
        text, values, is_missing = text.filter(keep), values.filter(keep), is_missing.filter(keep)
    bad = ~is_missing & values.is_null()
    table = table.with_columns(values.set(is_missing, None).alias(column + "\x00"))
    table = rejects.drop(table, bad, path, column, f"{{value}} is not {what}")
    return table.drop(column).rename({column + "\x00": column}).select(table.columns[:-1])


def repeated(table: pl.DataFrame, *columns: str) -> pl.Series:
    """True for rows whose ``columns`` repeat an earlier row's (the first stays valid)."""
    return table.select(~pl.struct(columns).is_first_distinct()).to_series()
