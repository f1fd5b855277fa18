"""Typer options shared by several commands."""

import typer

# Options shared by the sharded stages (build-db, materialize-dataset).
NODES = typer.Option(
    1, "--nodes", "--shards", min=1, help="Number of shards (one SLURM array task each)."
)
WORKERS = typer.Option(None, min=1, help="Local processes for the shards (default: CPU count).")
EXECUTOR = typer.Option(
    "auto",
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
RESUME = typer.Option(
    False,
    help="Continue an earlier run in the same folder: only unfinished or failed shards run again.",
)
