"""Errors a user can act on. The CLI prints them as one clear message, never a stack trace."""

from __future__ import annotations

from pathlib import Path


class TorchCellError(Exception):
    """Base class: an error whose message alone tells the user what to do."""


class SourceError(TorchCellError):
    """A bad record in an input file, located by file, line (1-based, as an editor counts) and field."""

    def __init__(self, path: Path | str, line: int | None, field: str | None, problem: str):
        self.path = Path(path)
        self.line = line
        self.field = field
        self.problem = problem
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        # Picklable, so an error raised in a worker process reaches the parent intact.
        return (SourceError, (self.path, self.line, self.field, self.problem))


class Neo4jUnavailable(TorchCellError):
    """No Neo4j answers at the configured address."""

    def __init__(self, uri: str, reason: str):
        super().__init__(
            f"Cannot reach Neo4j at {uri} ({reason}).\n"
            "Start the local one with `tc db start`, or start docker compose (`docker compose up -d`) "
            "and set TC_NEO4J_URI, TC_NEO4J_USER and TC_NEO4J_PASSWORD to point at it."
        )
        self.uri, self.reason = uri, reason

    def __reduce__(self):
        return (Neo4jUnavailable, (self.uri, self.reason))
