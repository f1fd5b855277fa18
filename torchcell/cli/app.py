"""``tc``: from public yeast genetics to a knowledge graph, datasets and trained models.

Each command parses its options and calls one library function; see ``tc COMMAND --help``.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from torchcell.cli.ui import console, progress_bar, user_errors
from torchcell.paths import SAMPLE_DIR

app = typer.Typer(
    help=(
        "TorchCell: build a yeast genetics knowledge graph in Neo4j, materialize training "
        "datasets from it, and train models that predict what gene deletions do to a cell.\n\n"
        "Typical run on the bundled sample:\n\n"
        "  tc db start\n\n  tc build-db\n\n"
        "  tc materialize-dataset pipeline/datasets/costanzo2016_sample.yaml\n\n"
        "  tc train pipeline/train/demo.yaml"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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
    """Stop the local Neo4j started by `tc db start` (clean shutdown)."""
    from torchcell.graphdb import local_server

    with user_errors():
        state = local_server.stop()
    console.print(f"stopped Neo4j (pid {state.pid})" if state else "no local Neo4j is running")


@db_app.command("status")
def db_status() -> None:
    """Say which Neo4j the commands will use and whether it answers."""
    from torchcell.graphdb.connection import open_driver, resolve_settings

    with user_errors():
        settings = resolve_settings()
        with open_driver(settings) as driver:
            info = driver.get_server_info()
    console.print(f"Neo4j {info.agent} answers at {settings.uri} (database {settings.database})")


@db_app.command("stats")
def db_stats() -> None:
    """Print node counts by label and relationship counts by type."""
    from torchcell.graphdb.connection import open_driver, resolve_settings
    from torchcell.graphdb.stats import graph_counts

    with user_errors():
        settings = resolve_settings()
        with open_driver(settings) as driver:
            counts = graph_counts(driver, settings.database)
    console.print(_counts_table(counts))


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
    shards: int = typer.Option(1, min=1, help="Number of shards the records are split into."),
    workers: int = typer.Option(
        None, min=1, help="Local processes for the shards (default: CPU count)."
    ),
    loader: str = typer.Option(
        "online",
        help="online (batched writes to a running Neo4j), bulk "
        "(neo4j-admin import into the local Neo4j, replaces its graph) or none.",
    ),
    quarantine: bool = typer.Option(
        False, help="Write bad rows to quarantine.tsv and go on, instead of stopping."
    ),
    build_dir: Path = typer.Option(
        None, help="Where the CSV shards go (default: $TC_HOME/builds/<build id>)."
    ),
    shard: str = typer.Option(None, help="Run only shard I/N (a cluster array task) and stop."),
    finalize_only: bool = typer.Option(
        False, "--finalize", help="Only finalize the finished shards and load."
    ),
) -> None:
    """Parse the sources, write neo4j-admin CSV shards, and load them into Neo4j.

    Every record is checked; a bad one stops the build with its file, line and field (or, with
    --quarantine, is written to quarantine.tsv and counted). The same inputs give the same build
    id and the same graph; loading twice changes nothing.

    Example: tc build-db --source-dir pipeline/sample --shards 4 --loader bulk
    """
    import os

    from torchcell.graphdb.build import build_shard, finalize
    from torchcell.graphdb.run import build_shards, load, prepare

    selection = [s.strip() for s in only.split(",")] if only else None
    with user_errors():
        if shard is not None:
            index, count = _parse_shard(shard)
            _, folder = prepare(source_dir, selection, build_dir)
            done = build_shard(folder, index, count, quarantine)
            console.print(
                f"shard {index}/{count} of {folder}: "
                + ", ".join(f"{k} {v:,}" for k, v in done["rows"].items())
            )
            return
        _, folder = prepare(source_dir, selection, build_dir)
        with progress_bar() as progress:
            if finalize_only:
                summary = finalize(folder, shards)
            else:
                summary = build_shards(
                    folder, shards, workers or os.cpu_count() or 1, quarantine, progress
                )
            result = load(folder, loader, progress)  # type: ignore[arg-type]
    _print_build(summary, folder, result)


def _print_build(summary, folder: Path, result) -> None:
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
    if summary.rejects:
        console.print(
            f"[yellow]{summary.rejects:,} bad rows quarantined in {folder / 'quarantine.tsv'}[/yellow]"
        )
    where = f" into {result.uri}" if result is not None else " (not loaded)"
    console.print(
        f"built graph {summary.build_id}{where}: {summary.experiments:,} experiments, "
        f"{sum(summary.nodes.values()):,} nodes, {sum(summary.relationships.values()):,} relationships; "
        f"CSV shards in {folder}"
    )


@app.command("fetch-sources")
def fetch_sources_cmd(
    dest: Path = typer.Option(None, help="Download folder (default: $TC_HOME/sources)."),
    only: str = typer.Option(None, help="Comma-separated sources, e.g. genome,go,gem."),
) -> None:
    """Download the public source files that have a stable URL, once, into a source folder.

    Files without one (the SGA screens' supplements, YEASTRACT exports) are listed with where
    to get them; put them into the same folder under their published names.

    Example: tc fetch-sources --only genome,go,gem && tc build-db --source-dir ~/.torchcell/sources
    """
    from torchcell.graphdb.local_server import state_dir
    from torchcell.sources.catalog import fetch_sources, select

    with user_errors():
        folder = dest or state_dir() / "sources"
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
        ..., help="Dataset spec YAML, e.g. pipeline/datasets/costanzo2016_sample.yaml."
    ),
    out: Path = typer.Option(None, help="Output folder (default: runs/datasets/<spec name>)."),
    shards: int = typer.Option(
        1, min=1, help="Number of disjoint partitions, one LMDB shard each."
    ),
    workers: int = typer.Option(
        None, min=1, help="Local processes for the shards (default: CPU count)."
    ),
    shard: str = typer.Option(None, help="Write only shard I/N (a cluster array task) and stop."),
    finalize_only: bool = typer.Option(
        False, "--finalize", help="Only check the shards and write the manifest."
    ),
) -> None:
    """Query the graph for a dataset spec and write LMDB shards, the cell graph and a manifest.

    Rerunning the same command finishes an interrupted run: complete shards are kept, partial
    ones are redone.

    Example: tc materialize-dataset pipeline/datasets/costanzo2016_sample.yaml --shards 4
    """
    import os

    from torchcell.graphdb.connection import open_driver, resolve_settings
    from torchcell.graphdb.query_spec import DatasetSpec
    from torchcell.store import materialize as m

    with user_errors():
        dataset_spec = DatasetSpec.from_yaml(spec)
        out = out or Path("runs") / "datasets" / dataset_spec.name
        if finalize_only:
            manifest = m.finalize(out)
        else:
            settings = resolve_settings()
            if shard is not None:
                index, count = _parse_shard(shard)
                with open_driver(settings) as driver:
                    m.prepare(driver, settings.database, dataset_spec, out, count)
                meta = m.materialize_shard(settings, out, index, count)
                console.print(
                    f"shard {index}/{count}: {meta['count']:,} records in {out / meta['file']}"
                )
                return
            with progress_bar() as progress:
                manifest = m.materialize(
                    settings, dataset_spec, out, shards, workers or os.cpu_count() or 1, progress
                )
    stats = ", ".join(
        f"{k} n={v['count']:,} mean={v['mean']:.4f} std={v['std']:.4f}"
        for k, v in manifest.label_stats.items()
        if v["count"] > 1
    )
    console.print(
        f"wrote {manifest.count:,} records ({manifest.measurements:,} measurements) in "
        f"{len(manifest.shards)} shard(s) to {out}; {stats}"
    )


dataset_app = typer.Typer(help="Inspect and check materialized datasets.")
app.add_typer(dataset_app, name="dataset")


@dataset_app.command("verify")
def dataset_verify(root: Path = typer.Argument(..., help="A materialized dataset folder.")) -> None:
    """Check every shard and the cell graph against the manifest's counts and sha256.

    Example: tc dataset verify runs/datasets/costanzo2016_sample
    """
    from torchcell.store.materialize import verify

    with user_errors():
        problems = verify(root)
    for problem in problems:
        console.print(f"[red]{problem}[/red]")
    if problems:
        raise typer.Exit(1)
    console.print(f"{root}: every shard and the cell graph match the manifest")


@app.command("train")
def train_cmd(
    config: Path = typer.Argument(..., help="Training config YAML, e.g. pipeline/train/demo.yaml."),
    dataset: Path = typer.Option(None, help="Override the config's dataset folder."),
    output: Path = typer.Option(None, help="Override the config's output folder."),
    epochs: int = typer.Option(None, help="Override the number of epochs."),
    device: str = typer.Option(None, help="Override the device: cpu, cuda, cuda:1."),
    seed: int = typer.Option(None, help="Override the random seed."),
    split: str = typer.Option(
        None, help="Override the split: held_out_genes, held_out_pairs or random."
    ),
) -> None:
    """Train a model on a materialized dataset; print per-epoch loss and validation Pearson.

    Writes model.pt (checkpoint) and metrics.json to the output folder.

    Example: tc train pipeline/train/demo.yaml --epochs 5
    """
    from torchcell.train.config import TrainConfig
    from torchcell.train.loop import train

    with user_errors():
        cfg = TrainConfig.from_yaml(
            config,
            dataset=dataset,
            output=output,
            epochs=epochs,
            device=device,
            seed=seed,
            split=split,
        )
        with progress_bar() as progress:
            result = train(cfg, progress, log=console.print)
    table = Table(title=f"metrics at the best validation epoch ({result.best_epoch})")
    for column in ("split", "label", "n", "MSE", "Pearson", "Spearman"):
        table.add_column(column, justify="left" if column in ("split", "label") else "right")
    for split, metrics in (("val", result.val), ("test", result.test)):
        for label, m in metrics.items():
            table.add_row(
                split,
                label,
                str(m["n"]),
                f"{m['mse']:.5f}",
                f"{m['pearson']:.3f}",
                f"{m['spearman']:.3f}",
            )
    console.print(table)
    console.print(f"checkpoint {result.checkpoint}\nmetrics    {result.metrics_file}")


def main() -> None:
    app()
