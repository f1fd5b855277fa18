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
from rich.text import Text

from torchcell.errors import Neo4jUnavailable, SourceError, TorchCellError
from torchcell.progress import Advance

# written to a file (a log of a long run) rich would wrap tables at 80 columns: keep rows whole.
# markup off: what is printed is literal text (a "[fitness]" in a message stays); colour is
# given with rich.text.Text where wanted.
console = Console(
    stderr=False, highlight=False, markup=False, width=None if sys.stdout.isatty() else 200
)
errors = Console(
    stderr=True, highlight=False, markup=False, width=None if sys.stderr.isatty() else 200
)


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


def print_error(message: str) -> None:
    """``error: <message>`` on stderr, the message printed literally (rich markup off), so a
    ``[fitness]`` or pydantic's ``[type=…]`` inside it is shown, not read as a style."""
    errors.print(Text.assemble(("error:", "red"), " ", str(message)), soft_wrap=True)


@contextmanager
def user_errors(uri_hint: str | None = None) -> Iterator[None]:
    """Print a TorchCellError (or a lost Neo4j connection) as one message and exit non-zero."""
    try:
        yield
    except SourceError as err:
        print_error(str(err))
        raise typer.Exit(2) from None
    except TorchCellError as err:
        print_error(str(err))
        raise typer.Exit(1) from None
    except (ServiceUnavailable, SessionExpired) as err:
        print_error(str(Neo4jUnavailable(uri_hint or "the configured Neo4j", str(err))))
        raise typer.Exit(1) from None
    except Neo4jError as err:
        print_error(f"Neo4j refused a statement ({err.code}): {err.message}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)
