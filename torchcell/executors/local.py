"""Shard tasks in a local process pool, with a progress bar over finished shards."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from torchcell.progress import Progress, no_progress


def run_shards(
    task: Callable[[int], Any],
    count: int,
    workers: int,
    progress: Progress = no_progress,
    what: str = "shards",
) -> list[Any]:
    """``task(i)`` for i in 0..count-1, ``workers`` at a time (in-process when workers == 1).

    ``task`` must be picklable (a module-level function or a functools.partial of one). The
    first failure is raised after the running tasks end; finished shards stay finished.
    """
    advance = progress(what, count)
    results: list[Any] = [None] * count
    if workers <= 1 or count == 1:
        for i in range(count):
            results[i] = task(i)
            advance(1)
        return results
    # spawn, not fork: a forked child inherits polars' and the Neo4j driver's threads mid-state
    # and can deadlock.
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        futures = {pool.submit(task, i): i for i in range(count)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            advance(1)
    return results
