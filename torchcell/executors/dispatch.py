"""Choosing and running an executor for a stage: the one call the CLI makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torchcell.executors import slurm
from torchcell.executors.stage import ExecutorName, LocalExecutor, Stage, choose
from torchcell.progress import Progress, no_progress


def run_stage(
    stage: Stage,
    executor: ExecutorName,
    workers: int,
    options: slurm.SlurmOptions,
    done_records: list[Path],
    wait: bool,
    progress: Progress = no_progress,
) -> tuple[str, Any]:
    """``("local", finalize's result)`` or ``("slurm", Submission)`` (waited for when ``wait``)."""
    if choose(executor) == "local":
        return "local", LocalExecutor(workers).run(stage, progress)
    submission = slurm.SlurmExecutor(options).submit(stage, done_records)
    if wait:
        slurm.wait(submission)
    return "slurm", submission
