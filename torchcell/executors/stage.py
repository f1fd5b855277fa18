"""A sharded stage: N shard tasks, then one finalize step; and the executors that run it.

The same stage runs two ways:

* ``LocalExecutor``: the shard functions in a process pool on this machine, then finalize.
* ``SlurmExecutor`` (``torchcell.executors.slurm``): the shard *commands* as one
  ``sbatch --array`` job and the finalize command as a job that depends on it (``afterok``).

A shard task is an ordinary ``tc`` invocation (``tc build-db --shard 3/8 …``), so it can be
run and debugged by hand. Whether a shard is finished is decided by its own completion record
(``is_done``), never by the scheduler alone, which is what a rerun of the same command relies on.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from torchcell.errors import TorchCellError
from torchcell.executors.local import run_shards
from torchcell.progress import Progress, no_progress

ExecutorName = Literal["auto", "local", "slurm"]


@dataclass
class Stage:
    name: str
    """The tc command, e.g. ``build-db``; used for job names and templates."""
    count: int
    work_dir: Path
    """Where the stage's outputs live; job records and logs go to ``work_dir/slurm``."""
    shard_args: list[str]
    """tc arguments of one shard task; ``{index}`` and ``{count}`` are filled in."""
    finalize_args: list[str]
    run_shard: Callable[[int], Any]
    """The same shard task as a picklable function, for the local pool."""
    finalize: Callable[[], Any]
    is_done: Callable[[int], bool]

    def pending(self) -> list[int]:
        return [i for i in range(self.count) if not self.is_done(i)]

    def command(self, args: list[str], index: str = "{index}") -> str:
        filled = [a.replace("{index}", index).replace("{count}", str(self.count)) for a in args]
        return shlex.join([tc_executable(), *filled])


def tc_executable() -> str:
    """The ``tc`` of this environment, so cluster jobs run the same code."""
    beside = Path(sys.executable).with_name("tc")
    return str(beside) if beside.exists() else (shutil.which("tc") or "tc")


def choose(name: ExecutorName) -> Literal["local", "slurm"]:
    """``auto``: SLURM when ``sbatch`` is on PATH and a controller answers ``sinfo``, else local.

    ``$TC_EXECUTOR`` (local or slurm) decides instead of auto.
    """
    if name == "auto":
        name = os.environ.get("TC_EXECUTOR") or "auto"  # type: ignore[assignment]
    if name == "auto":
        return "slurm" if shutil.which("sbatch") and _controller_answers() else "local"
    if name not in ("local", "slurm"):
        raise TorchCellError(f"unknown executor {name!r}: use auto, local or slurm")
    return name  # type: ignore[return-value]


def _controller_answers() -> bool:
    try:
        return (
            subprocess.run(["sinfo", "-h"], capture_output=True, timeout=10, check=False).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class LocalExecutor:
    workers: int

    def run(self, stage: Stage, progress: Progress = no_progress) -> Any:
        """Run the unfinished shards in a process pool, then finalize (in this process)."""
        pending = stage.pending()
        run_shards(
            partial(_shard_at, stage.run_shard, pending),
            len(pending),
            self.workers,
            progress,
            what="shards",
        )
        return stage.finalize()


def _shard_at(task: Callable[[int], Any], indices: list[int], position: int) -> Any:
    """Run shard ``indices[position]``: the pool numbers only the pending shards."""
    return task(indices[position])
