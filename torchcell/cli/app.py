"""``tc``: from public yeast genetics to a knowledge graph, datasets and trained models.

Each command parses its options and calls one library function; see ``tc COMMAND --help``.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from torchcell.cli.ui import console, progress_bar, user_errors
from torchcell.errors import TorchCellError
from torchcell.paths import SAMPLE_DIR

# torch_geometric still calls torch.jit.script at import; the deprecation is not the user's
warnings.filterwarnings("ignore", ".*torch.jit.script.*", FutureWarning)

app = typer.Typer(
    help=(
        "TorchCell: build a yeast genetics knowledge graph in Neo4j, materialize training "
        "datasets from it, and train models that predict what gene deletions do to a cell.\n\n"
        "Typical run on the bundled sample:\n\n"
        "  tc db start\n\n  tc build-db\n\n"
        "  tc materialize-dataset pipeline/datasets/sga_public_trigenic.yaml "
        "--out runs/datasets/sga_public_trigenic_sample\n\n"
        "  tc train pipeline/train/demo.yaml\n\n"
        "Exit codes: 0 done; 1 an error its message explains (bad data, a refused command, an "
        "unreachable Neo4j); 2 a bad source row (file, line and field named) or a usage error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from torchcell.code_version import describe

        console.print(f"tc {describe()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Options of tc itself (before the command)."""


db_app = typer.Typer(help="Run the local Neo4j (embedded, no Docker needed) and inspect the graph.")
app.add_typer(db_app, name="db")


def _counts_table(counts) -> Table:
    table = Table(title="graph contents")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("count", justify="right")
    for label, n in counts.nodes.items():
        table.add_row("node", label, f"{n:,}")
    for rel, n in counts.relationships.items():
        table.add_row("relationship", rel, f"{n:,}")
    return table


@db_app.command("start")
def db_start(
    port: int = typer.Option(7687, help="Bolt port on 127.0.0.1."),
    data_dir: Path = typer.Option(None, help="Database folder (default: $TC_HOME/neo4j)."),
    heap: str = typer.Option("1g", help="Java heap, e.g. 1g or 4g."),
    pagecache_mb: int = typer.Option(256, help="Neo4j page cache in MiB."),
) -> None:
    """Start the local Neo4j 5.26 in the background (builds it with Maven the first time).

    Example: tc db start --port 7687
    """
    from torchcell.graphdb import local_server

    with user_errors():
        console.print("starting the local Neo4j (the first start builds it with Maven) ...")
        state = local_server.start(port=port, home=data_dir, heap=heap, pagecache_mb=pagecache_mb)
    console.print(
        f"Neo4j is running at {state.uri} (pid {state.pid}, data {state.home}, log {state.log})"
    )


@db_app.command("stop")
def db_stop() -> None:
    """Stop the local Neo4j started by `tc db start` (clean shutdown).

    Example: tc db stop
    """
    from torchcell.graphdb import local_server

    with user_errors():
        state = local_server.stop()
    console.print(f"stopped Neo4j (pid {state.pid})" if state else "no local Neo4j is running")


@db_app.command("status")
def db_status() -> None:
    """Say which Neo4j the commands will use and whether it answers.

    Example: tc db status
    """
    from torchcell.graphdb.connection import open_driver, resolve_settings

    with user_errors():
        settings = resolve_settings()
        with open_driver(settings) as driver:
            info = driver.get_server_info()
    console.print(f"Neo4j {info.agent} answers at {settings.uri} (database {settings.database})")
    if settings.password and "TC_NEO4J_URI" not in os.environ:
        console.print(
            f"user {settings.user}, password in {_password_file()} (print it: tc db password)"
        )


def _password_file() -> Path:
    from torchcell.graphdb import local_server

    return local_server.password_file()


@db_app.command("password")
def db_password() -> None:
    """Print the local Neo4j's password, to connect with your own tools (user neo4j).

    The password is made at random by the first `tc db start` and kept, readable only by you,
    in $TC_HOME/neo4j.password. Example: cypher-shell -a bolt://127.0.0.1:7687 -u neo4j -p "$(tc db password)"
    """
    from torchcell.graphdb import local_server

    with user_errors():
        secret = local_server.password()
        if secret is None:
            raise TorchCellError(
                f"no local Neo4j password yet ({_password_file()}): start the server with tc db start"
            )
    print(secret)


@db_app.command("stats")
def db_stats() -> None:
    """Print node counts by label and relationship counts by type.

    Example: tc db stats
    """
    from torchcell.graphdb.connection import open_driver, resolve_settings
    from torchcell.graphdb.run import held_builds
    from torchcell.graphdb.stats import graph_counts

    with user_errors():
        settings = resolve_settings()
        with open_driver(settings) as driver:
            counts = graph_counts(driver, settings.database)
            builds = held_builds(driver, settings.database)
    console.print(_counts_table(counts))
    for build in builds:
        state = (
            "complete" if build["complete"] else Text("INCOMPLETE (a load was interrupted)", "red")
        )
        union = f", appended to {', '.join(build['appended_to'])}" if build["appended_to"] else ""
        console.print(Text.assemble(f"build {build['id']}: ", state, union))
    if any(not b["complete"] for b in builds):
        console.print("finish it by rerunning the same tc build-db command")


from torchcell.cli.options import (  # noqa: E402
    ACCOUNT,
    CPUS,
    EXECUTOR,
    MAX_PARALLEL,
    MEM,
    NODES,
    PARTITION,
    TIME,
    WAIT,
    WORKERS,
    Executor,
    Loader,
    value,
)


def _slurm_options(partition, account, time, mem, cpus, max_parallel):
    from torchcell.executors.slurm import SlurmOptions

    return SlurmOptions(
        partition=partition,
        account=account,
        time=time,
        mem=mem,
        cpus=cpus,
        max_parallel=max_parallel,
    )


def _print_submission(submission) -> None:
    shards = ", ".join(map(str, submission.shards)) or "none (all finished)"
    console.print(
        f"submitted {submission.stage}: array job {submission.array_job or '-'} (shards {shards}), "
        f"finalize job {submission.finalize_job} (afterok); logs in {submission.log_dir}\n"
        f"watch with: tc jobs status {Path(submission.log_dir).parent}"
    )


def _parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise typer.BadParameter("use I/N, e.g. --shard 0/4") from None
    if not 0 <= index < count:
        raise typer.BadParameter(f"shard index {index} is outside 0..{count - 1}")
    return index, count


@app.command("build-db")
def build_db(
    source_dir: Path = typer.Option(
        SAMPLE_DIR, help="Folder with the source files under their published names (see README)."
    ),
    only: str = typer.Option(
        None, help="Comma-separated sources to build, e.g. go,gem (the genome always)."
    ),
    nodes: int = NODES,
    workers: int = WORKERS,
    loader: Loader = typer.Option(
        Loader.online,
        help="online (batched writes to a running Neo4j), bulk "
        "(neo4j-admin import into the local Neo4j, replaces its graph) or none.",
    ),
    quarantine: bool = typer.Option(
        False, help="Write bad rows to quarantine.tsv and go on, instead of stopping."
    ),
    replace: bool = typer.Option(
        False, help="Online loader, graph holding another build: remove it first (in batches)."
    ),
    append: bool = typer.Option(
        False,
        help="Online loader, graph holding another build: keep it and add this one (a union, "
        "recorded in the new Build node).",
    ),
    out: Path = typer.Option(
        None, help="Where the CSV shards go (default: $TC_HOME/builds/<build id>)."
    ),
    shard: str = typer.Option(
        None, help="Run only shard I/N (what each array task runs) and stop."
    ),
    finalize_only: bool = typer.Option(
        False, "--finalize", help="Only finalize the finished shards and load."
    ),
    executor: Executor = EXECUTOR,
    partition: str = PARTITION,
    account: str = ACCOUNT,
    time: str = TIME,
    mem: str = MEM,
    cpus: int = CPUS,
    max_parallel: int = MAX_PARALLEL,
    wait: bool = WAIT,
) -> None:
    """Parse the sources, write neo4j-admin CSV shards, and load them into Neo4j.

    Every record is checked; a bad one stops the build with its file, line and field (or, with
    --quarantine, is written to quarantine.tsv and counted). The same inputs give the same build
    id and the same graph; loading twice changes nothing. With --executor slurm the shards run
    as an array job and finalize + load as a job that depends on it.

    Example: tc build-db --source-dir pipeline/sample --nodes 4 --loader bulk
    """
    import os

    from torchcell.executors.dispatch import run_stage
    from torchcell.graphdb.build import BuildSummary, build_shard, finalize, locked
    from torchcell.graphdb.run import build_stage, done_record, load, prepare

    selection = [s.strip() for s in only.split(",")] if only else None
    loader, executor = value(loader), value(executor)
    mode = "replace" if replace else "append" if append else "refuse"
    with user_errors():
        if replace and append:
            raise TorchCellError("--replace and --append exclude each other; choose one")
        _, folder = prepare(source_dir, selection, out)
        if shard is not None:
            index, count = _parse_shard(shard)
            done = build_shard(folder, index, count, quarantine)
            console.print(
                f"shard {index}/{count} of {folder}: "
                + ", ".join(f"{k} {v:,}" for k, v in done["rows"].items())
            )
            return
        with progress_bar() as progress:
            if finalize_only:
                summary = finalize(folder, nodes)
                with locked(folder / "load.lock"):
                    loaded = load(folder, loader, progress, mode)  # type: ignore[arg-type]
                _print_build(summary, folder, loaded)
                return
            else:
                stage = build_stage(folder, nodes, source_dir, selection, quarantine, loader, mode)  # type: ignore[arg-type]
                kind, result = run_stage(
                    stage, executor, workers or os.cpu_count() or 1,  # type: ignore[arg-type]
                    _slurm_options(partition, account, time, mem, cpus, max_parallel),
                    [done_record(folder, i, nodes) for i in range(nodes)], wait, progress,
                )  # fmt: skip
                if kind == "slurm":
                    _print_submission(result)
                    if wait:
                        _print_build(BuildSummary.read(folder), folder, None, loaded_by_job=True)
                    return
                summary = result
            with locked(folder / "load.lock"):
                loaded = load(folder, loader, progress, mode)  # type: ignore[arg-type]
    _print_build(summary, folder, loaded)


def _print_build(summary, folder: Path, result, loaded_by_job: bool = False) -> None:
    if result is not None:
        console.print(_counts_table(result.counts))
    for note, n in summary.notes.items():
        if n:
            console.print(f"note: {n:,} {note}")
    if summary.unscored:
        console.print(
            f"note: {summary.unscored:,} screen rows without a measurement (NaN) were not loaded"
        )
    if summary.skipped_sources:
        console.print(
            f"note: sources not found in the source folder, skipped: {', '.join(summary.skipped_sources)}"
        )
    for key, patterns in summary.missing_files.items():
        console.print(
            f"note: {key} loaded without {', '.join(patterns)} (not in the source folder)"
        )
    if summary.rejects:
        console.print(
            Text(
                f"{summary.rejects:,} bad rows quarantined in {folder / 'quarantine.tsv'}", "yellow"
            )
        )
    where = (
        f" into {result.uri}"
        if result is not None
        else " (loaded by the finalize job)"
        if loaded_by_job
        else " (not loaded)"
    )
    console.print(
        f"built graph {summary.build_id}{where}: {summary.experiments:,} experiments, "
        f"{sum(summary.nodes.values()):,} nodes, {sum(summary.relationships.values()):,} relationships; "
        f"CSV shards in {folder}"
    )


@app.command("fetch-sources")
def fetch_sources_cmd(
    out: Path = typer.Option(None, help="Download folder (default: $TC_HOME/sources)."),
    only: str = typer.Option(None, help="Comma-separated sources, e.g. genome,go,gem."),
) -> None:
    """Download the public source files that have a stable URL, once, into a source folder.

    Tables shipped inside a zip (Costanzo 2016 Data File S1) are extracted by name. Files
    without a stable URL (the Kuzmin screens' tables, a BioGRID release) are listed with the
    publisher's page; put them into the same folder under their published names.

    Example: tc fetch-sources --only genome,go,gem && tc build-db --source-dir ~/.torchcell/sources
    """
    from torchcell.graphdb.local_server import state_dir
    from torchcell.sources.catalog import fetch_sources
    from torchcell.sources.registry import select

    with user_errors():
        folder = out or state_dir() / "sources"
        fetched, by_hand = fetch_sources(
            select([s.strip() for s in only.split(",")] if only else None), folder
        )
    for path in fetched:
        console.print(f"have {path}")
    for line in by_hand:
        console.print(f"get by hand into {folder}: {line}")


@app.command("materialize-dataset")
def materialize_dataset(
    spec: Path = typer.Argument(
        ..., help="Dataset spec YAML, e.g. pipeline/datasets/sga_public_trigenic.yaml."
    ),
    out: Path = typer.Option(None, help="Output folder (default: runs/datasets/<spec name>)."),
    nodes: int = NODES,
    workers: int = WORKERS,
    shard: str = typer.Option(
        None, help="Write only shard I/N (what each array task runs) and stop."
    ),
    finalize_only: bool = typer.Option(
        False, "--finalize", help="Only check the shards and write the manifest."
    ),
    executor: Executor = EXECUTOR,
    partition: str = PARTITION,
    account: str = ACCOUNT,
    time: str = TIME,
    mem: str = MEM,
    cpus: int = CPUS,
    max_parallel: int = MAX_PARALLEL,
    wait: bool = WAIT,
) -> None:
    """Query the graph for a dataset spec and write LMDB shards, the cell graph and a manifest.

    Rerunning the same command finishes an interrupted run: complete shards are kept, partial
    ones are redone.

    Example: tc materialize-dataset pipeline/datasets/sga_public_trigenic.yaml --nodes 4
    """
    import os

    from torchcell.executors.dispatch import run_stage
    from torchcell.folder_lock import exclusive
    from torchcell.graphdb.connection import open_driver, resolve_settings
    from torchcell.store import materialize as m
    from torchcell.store.spec import DatasetSpec

    executor = value(executor)
    with user_errors():
        dataset_spec = DatasetSpec.from_yaml(spec)
        out = out or Path("runs") / "datasets" / dataset_spec.name
        if shard is not None:  # one array task: holds only its shard's lock
            settings = resolve_settings()
            index, count = _parse_shard(shard)
            with open_driver(settings) as driver:
                m.prepare(driver, settings.database, dataset_spec, out, count)
            meta = m.materialize_shard(settings, out, index, count)
            console.print(f"shard {shard}: {meta['count']:,} records in {out / meta['file']}")
            return
        if (
            finalize_only
        ):  # the finalize job of a SLURM submission, whose submitter may hold the lock
            kind, manifest = "local", m.finalize(out)
        else:
            with exclusive(Path(out) / m.LOCK, f"dataset folder {out}"):
                settings = resolve_settings()
                with open_driver(settings) as driver:
                    m.prepare(driver, settings.database, dataset_spec, out, nodes)
                with progress_bar() as progress:
                    kind, manifest = run_stage(
                        m.materialize_stage(settings, spec, out, nodes), executor, workers or os.cpu_count() or 1,  # type: ignore[arg-type]
                        _slurm_options(partition, account, time, mem, cpus, max_parallel),
                        [m.done_record(out, i, nodes) for i in range(nodes)], wait, progress,
                    )  # fmt: skip
        if kind == "slurm":
            _print_submission(manifest)
            if not wait:
                return
            manifest = m.Manifest.read(out)
    stats = ", ".join(
        f"{k} n={v['count']:,} mean={v['mean']:.4f} std={v['std']:.4f}"
        for k, v in manifest.label_stats.items()
        if v["count"] > 1
    )
    console.print(
        f"wrote {manifest.count:,} records ({manifest.measurements:,} measurements) in "
        f"{len(manifest.shards)} shard(s) to {out}; {stats}"
    )


jobs_app = typer.Typer(help="Follow sharded stages submitted to SLURM.")
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("status")
def jobs_status(
    work_dir: Path = typer.Argument(..., help="The build or dataset folder of the submission."),
) -> None:
    """Show each shard's state (scheduler + completion records), the finalize job, failed logs.

    A failed shard leaves the afterok finalize job pending forever; this cancels it and says so.
    Rerun the stage's command to resubmit only the unfinished shards.

    Example: tc jobs status runs/datasets/sga_public_trigenic_sample
    """
    from torchcell.executors import slurm

    with user_errors():
        submission = slurm.read_submission(work_dir)
        state = slurm.status(submission)
    table = Table(
        title=f"{submission.stage}: array job {submission.array_job or '-'}, submitted {submission.submitted_at}"
    )
    table.add_column("shard", justify="right")
    table.add_column("state")
    table.add_column("log")
    for index, shard_state in state.shards.items():
        table.add_row(str(index), shard_state, str(submission.shard_log(index)))
    console.print(table)
    console.print(f"finalize job {submission.finalize_job}: {state.finalize}")
    if state.cancelled_finalize:
        console.print(
            Text(
                f"cancelled finalize job {submission.finalize_job}: shard(s) {sorted(state.failed_logs)} failed",
                "yellow",
            )
        )
    if state.failed_logs:
        console.print("rerun the stage's command to resubmit only the unfinished shards")
        raise typer.Exit(1)


dataset_app = typer.Typer(help="Inspect and check materialized datasets.")
app.add_typer(dataset_app, name="dataset")


@dataset_app.command("verify")
def dataset_verify(root: Path = typer.Argument(..., help="A materialized dataset folder.")) -> None:
    """Check every shard and the cell graph against the manifest's counts and sha256.

    Example: tc dataset verify runs/datasets/sga_public_trigenic_sample
    """
    from torchcell.store.materialize import verify

    with user_errors():
        problems = verify(root)
    for problem in problems:
        console.print(Text(problem, "red"))
    if problems:
        raise typer.Exit(1)
    console.print(f"{root}: every shard and the cell graph match the manifest")


from torchcell.cli import training  # noqa: E402


@app.command("reference")
def reference_cmd(
    out: Path = typer.Option(Path("docs/reference"), help="Folder of the reference pages."),
) -> None:
    """Write the dataset spec and training config references from the code's field descriptions.

    Example: tc reference --out docs/reference
    """
    from torchcell import reference

    for path in reference.write(out):
        console.print(f"wrote {path}")


training.register(app)


def main() -> None:
    # a long run's lines reach a log file as they are printed, not when 8 KiB have gathered
    if hasattr(sys.stdout, "reconfigure"):  # a text file; not when a host replaced stdout
        sys.stdout.reconfigure(line_buffering=True)
    app()


if __name__ == "__main__":  # python -m torchcell.cli.app, where `tc` is not installed
    main()
