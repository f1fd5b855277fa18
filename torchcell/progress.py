"""How library code reports progress without knowing about terminals.

A long step calls ``advance = progress("what", total)`` once and ``advance(n)`` as it goes; the
CLI passes a rich progress bar, tests and library users the silent default.
"""

from __future__ import annotations

from collections.abc import Callable

Advance = Callable[[int], None]
Progress = Callable[[str, int], Advance]


def no_progress(description: str, total: int) -> Advance:
    return lambda n: None
