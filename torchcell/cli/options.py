"""Typer options shared by several commands, and the closed choices (shown in --help,
rejected at parse time)."""

from enum import Enum, StrEnum

import typer


class Executor(StrEnum):
    auto = "auto"
    local = "local"
    slurm = "slurm"


class Loader(StrEnum):
    online = "online"
    bulk = "bulk"
    none = "none"


class Split(StrEnum):
    held_out_genes = "held_out_genes"
    held_out_pairs = "held_out_pairs"
    random = "random"


class Accelerator(StrEnum):
    cpu = "cpu"
    gpu = "gpu"
    auto = "auto"


class Part(StrEnum):
    all = "all"
    train = "train"
    val = "val"
    test = "test"


class Sampler(StrEnum):
    tpe = "tpe"
    random = "random"


def value(choice: Enum | None):
    """The plain string of a choice (None stays None)."""
    return None if choice is None else choice.value


# Options shared by the sharded stages (build-db, materialize-dataset).
NODES = typer.Option(1, "--nodes", min=1, help="Number of shards (one SLURM array task each).")
WORKERS = typer.Option(None, min=1, help="Local processes for the shards (default: CPU count).")
EXECUTOR = typer.Option(
    Executor.auto,
    help="local (process pool), slurm (sbatch array + afterok finalize) or auto (slurm when sbatch is on PATH; $TC_EXECUTOR overrides).",
)
PARTITION = typer.Option("", help="SLURM partition.")
ACCOUNT = typer.Option("", help="SLURM account.")
TIME = typer.Option("02:00:00", help="SLURM time limit per job.")
MEM = typer.Option("8G", help="SLURM memory per job.")
CPUS = typer.Option(1, help="SLURM CPUs per task.")
MAX_PARALLEL = typer.Option(None, help="At most this many array tasks at once (%K throttle).")
WAIT = typer.Option(
    False, help="With slurm: wait for the finalize job; fail naming the logs of failed shards."
)
