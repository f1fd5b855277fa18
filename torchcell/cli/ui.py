"""Terminal output for the CLI: the rich progress bar and turning errors into messages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from torchcell.errors import Neo4jUnavailable, SourceError, TorchCellError
from torchcell.progress import Advance

# written to a file (a log of a long run) rich would wrap tables at 80 columns: keep rows whole
console = Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)


@contextmanager
def progress_bar() -> Iterator:
    """Yield a ``torchcell.progress.Progress`` that draws one rich bar per step."""
    columns = [
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, transient=False) as bar:

        def start(description: str, total: int) -> Advance:
            task = bar.add_task(description, total=total if total > 0 else None)
            return lambda n: bar.advance(task, n)

        yield start


@contextmanager
def user_errors(uri_hint: str | None = None) -> Iterator[None]:
    """Print a TorchCellError (or a lost Neo4j connection) as one message and exit non-zero."""
    try:
        yield
    except SourceError as err:
        errors.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(2) from None
    except TorchCellError as err:
        errors.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(1) from None
    except (ServiceUnavailable, SessionExpired) as err:
        errors.print(
            f"[red]error:[/red] {Neo4jUnavailable(uri_hint or 'the configured Neo4j', str(err))}"
        )
        raise typer.Exit(1) from None
    except Neo4jError as err:
        errors.print(
            f"[red]error:[/red] Neo4j refused a statement ({err.code}): {err.message}",
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)
