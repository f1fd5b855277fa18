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


@app.command("build-db")
def build_db(
    source_dir: Path = typer.Option(
        SAMPLE_DIR,
        help="Folder with the source files under their published names "
        "(SGD_features.tab, strain_ids_and_single_mutant_fitness.tsv, SGA_*.txt).",
    ),
) -> None:
    """Parse the source files and load genes and experiments into Neo4j.

    Every record is checked; a bad one stops the build with its file, line and field. Loading
    is idempotent: running it twice gives the same graph.

    Example: tc build-db --source-dir pipeline/sample
    """
    from torchcell.graphdb.build import build_graph
    from torchcell.graphdb.connection import open_driver, resolve_settings

    with user_errors():
        settings = resolve_settings()
        with open_driver(settings) as driver, progress_bar() as progress:
            report = build_graph(driver, settings.database, source_dir, progress)
    console.print(_counts_table(report.counts))
    console.print(
        f"built graph {report.build_id} at {settings.uri} from {len(report.inputs)} files in "
        f"{source_dir}: {report.experiments:,} experiments"
        + (f" ({report.unscored:,} unscored rows not loaded)" if report.unscored else "")
    )


@app.command("materialize-dataset")
def materialize_dataset(
    spec: Path = typer.Argument(
        ..., help="Dataset spec YAML, e.g. pipeline/datasets/costanzo2016_sample.yaml."
    ),
    out: Path = typer.Option(None, help="Output folder (default: runs/datasets/<spec name>)."),
) -> None:
    """Query the graph for a dataset spec and write an LMDB shard, genes.json and manifest.json.

    Example: tc materialize-dataset pipeline/datasets/costanzo2016_sample.yaml
    """
    from torchcell.graphdb.connection import open_driver, resolve_settings
    from torchcell.graphdb.query_spec import DatasetSpec
    from torchcell.store.materialize import materialize

    with user_errors():
        dataset_spec = DatasetSpec.from_yaml(spec)
        out = out or Path("runs") / "datasets" / dataset_spec.name
        settings = resolve_settings()
        with open_driver(settings) as driver, progress_bar() as progress:
            manifest = materialize(driver, settings.database, dataset_spec, out, progress)
    stats = ", ".join(
        f"{k} n={v['count']:,} mean={v['mean']:.4f} std={v['std']:.4f}"
        for k, v in manifest.label_stats.items()
    )
    console.print(
        f"wrote {manifest.count:,} experiments to {out} ({len(manifest.shards)} shard); {stats}"
    )


@app.command("train")
def train_cmd(
    config: Path = typer.Argument(..., help="Training config YAML, e.g. pipeline/train/demo.yaml."),
    dataset: Path = typer.Option(None, help="Override the config's dataset folder."),
    output: Path = typer.Option(None, help="Override the config's output folder."),
    epochs: int = typer.Option(None, help="Override the number of epochs."),
    device: str = typer.Option(None, help="Override the device: cpu, cuda, cuda:1."),
    seed: int = typer.Option(None, help="Override the random seed."),
) -> None:
    """Train a model on a materialized dataset; print per-epoch loss and validation Pearson.

    Writes model.pt (checkpoint) and metrics.json to the output folder.

    Example: tc train pipeline/train/demo.yaml --epochs 5
    """
    from torchcell.train.config import TrainConfig
    from torchcell.train.loop import train

    with user_errors():
        cfg = TrainConfig.from_yaml(
            config, dataset=dataset, output=output, epochs=epochs, device=device, seed=seed
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
