"""The training commands: ``tc train``, ``tc evaluate``, ``tc pretrain-dango``, ``tc compare``,
``tc sweep``."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import typer
from rich.table import Table

from torchcell.cli.options import (
    ACCOUNT,
    MEM,
    PARTITION,
    TIME,
    Accelerator,
    Executor,
    Part,
    Sampler,
    Split,
    value,
)  # fmt: skip
from torchcell.cli.ui import console, progress_bar, user_errors

SUBSETS = {"all": "all", "1": "single mutants", "2": "double mutants", "3": "triple mutants"}


def metrics_rows(name: str, part: str, metrics: dict, by_size: dict | None = None) -> list[tuple]:
    """(model, part, subset, label, n, MSE, Pearson, Spearman) rows: overall, then per size."""
    rows = [(name, part, "all", label, m) for label, m in metrics.items()]
    for size, per_label in sorted((by_size or {}).items()):
        rows += [
            (name, part, SUBSETS.get(size, f"{size} genes"), label, m)
            for label, m in per_label.items()
        ]
    return [
        (
            *r[:4],
            str(r[4]["n"]),
            f"{r[4]['mse']:.5f}",
            f"{r[4]['pearson']:.3f}",
            f"{r[4]['spearman']:.3f}",
        )
        for r in rows
        if r[4]["n"]
    ]


HEADER = ("model", "part", "subset", "label", "n", "MSE", "Pearson", "Spearman")


def print_table(title: str, rows: list[tuple], header=HEADER, text_columns: int = 4) -> None:
    """A rich table; the first ``text_columns`` columns left-aligned, the numbers right."""
    table = Table(title=title)
    for i, column in enumerate(header):
        table.add_column(column, justify="left" if i < text_columns else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def baseline_rows(result, part: str) -> list[tuple]:
    rows: list[tuple] = []
    for name, metrics in result.baselines.items():
        rows += metrics_rows(name, part, metrics["test"], metrics["test_by_size"])
    return rows


def train_cmd(
    config: Path = typer.Argument(..., help="Training config YAML, e.g. pipeline/train/demo.yaml."),
    dataset: Path = typer.Option(None, help="Override the config's dataset folder."),
    out: Path = typer.Option(None, help="Override the config's output folder."),
    model: str = typer.Option(
        None, help="Override the model: a registered model (tc models lists them)."
    ),
    epochs: int = typer.Option(None, help="Override the number of epochs."),
    accelerator: Accelerator = typer.Option(None, help="Override the accelerator."),
    devices: int = typer.Option(None, help="Override the number of devices (GPUs: DDP when > 1)."),
    seed: int = typer.Option(None, help="Override the random seed."),
    split: Split = typer.Option(None, help="Override the split."),
    executor: Executor = typer.Option(
        Executor.local, help="local (here) or slurm (submit slurm/train.sbatch)."
    ),
    gpus: int = typer.Option(1, help="With slurm: GPUs to request (0 for a CPU job)."),
    partition: str = PARTITION,
    account: str = ACCOUNT,
    time: str = TIME,
    mem: str = MEM,
    cpus: int = typer.Option(4, help="SLURM CPUs for the job."),
    wait: bool = typer.Option(False, help="With slurm: wait for the job to finish."),
    progress: bool = typer.Option(True, help="Show Lightning's progress bar."),
    overwrite: bool = typer.Option(
        False, help="Replace the run the output folder holds (else a held run is refused)."
    ),
) -> None:
    """Train a model on a materialized dataset; print per-epoch loss and validation Pearson.

    Writes model.pt, checkpoints/, logs/metrics.csv, metrics.json, loss.png and
    predictions.png to the output folder, and prints the test metrics beside the baselines.

    Example: tc train pipeline/train/hetero_cell.yaml --epochs 5
    """
    from torchcell.executors import slurm
    from torchcell.executors.stage import tc_executable
    from torchcell.train.config import TrainConfig
    from torchcell.train.loop import train

    overrides = {
        "dataset": dataset, "output": out, "model": model, "epochs": epochs,
        "accelerator": value(accelerator), "devices": devices, "seed": seed,
        "split": value(split),
    }  # fmt: skip
    if executor is Executor.slurm:
        args = [tc_executable(), "train", str(config.resolve()), "--no-progress"]
        args += ["--accelerator", "gpu" if gpus else "cpu", "--devices", str(max(gpus, 1))]
        for key in ("dataset", "output", "model", "epochs", "seed", "split"):
            given = overrides[key]
            if given is not None:
                args += [
                    "--out" if key == "output" else f"--{key}",
                    str(Path(given).resolve()) if isinstance(given, Path) else str(given),
                ]
        with user_errors():
            cfg = TrainConfig.from_yaml(config, output=out)
            options = slurm.SlurmOptions(
                partition=partition, account=account, time=time, mem=mem, cpus=cpus, gpus=gpus
            )
            log_dir = Path(cfg.output).resolve() / "slurm"
            job = slurm.submit_single("train.sbatch", "train", options, log_dir, shlex.join(args))
            console.print(
                f"submitted training job {job} ({gpus} GPU(s)); log {log_dir / 'train.log'}"
            )
            if wait:
                slurm.wait_job(job, log_dir / "train.log")
                console.print(f"training job {job} completed; results in {cfg.output}")
        return
    with user_errors():
        cfg = TrainConfig.from_yaml(config, **overrides)
        result = train(cfg, progress_bar=progress, log=console.print, overwrite=overwrite)
    if result is None:  # another rank of a multi-device run: rank 0 reports
        return
    rows = metrics_rows(cfg.model, "train", result.train)
    rows += metrics_rows(cfg.model, "val", result.val)
    rows += metrics_rows(cfg.model, "test", result.test, result.test_by_size)
    rows += baseline_rows(result, "test")
    print_table(
        f"{cfg.model}, {cfg.split} split: test metrics beside the baselines (checkpoint of the best validation epoch, {result.best_epoch})",
        rows,
    )
    console.print(f"checkpoint {result.checkpoint}\nmetrics    {result.metrics_file}")


def evaluate_cmd(
    checkpoint: Path = typer.Argument(..., help="A run folder of tc train, or its model.pt."),
    dataset: Path = typer.Argument(..., help="A materialized dataset folder."),
    part: Part = typer.Option(
        Part.all, help="Every sample, or train / val / test of the checkpoint's split."
    ),
    accelerator: Accelerator = typer.Option(Accelerator.cpu),
    out: Path = typer.Option(None, help="Also write the metrics to this JSON file."),
) -> None:
    """Re-score a trained model on a materialized dataset (same gene list), in label units.

    Example: tc evaluate runs/demo runs/datasets/sga_public_trigenic_sample --part test
    """
    from torchcell.train.evaluate import evaluate

    part = value(part)
    with user_errors():
        result = evaluate(checkpoint, dataset, part, accelerator=value(accelerator))
    print_table(
        f"{result['model']} from {checkpoint} on {dataset} ({part}, {result['n']} samples)",
        metrics_rows(result["model"], part, result["metrics"], result["by_size"]),
    )
    if out:
        Path(out).write_text(json.dumps(result, indent=2))
        console.print(f"wrote {out}")


def pretrain_cmd(
    dataset: Path = typer.Argument(..., help="A materialized dataset folder (its cell_graph.pt)."),
    out: Path = typer.Option(
        Path("runs/pretrain/dango_embeddings.pt"), help="Embeddings file to write."
    ),
    dim: int = typer.Option(64, help="Embedding size."),
    epochs: int = typer.Option(100, help="Passes over each network's genes."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Pre-train Dango's gene embeddings on the cell graph's gene networks.

    Example: tc pretrain-dango runs/datasets/sga_public_trigenic_sample --epochs 20
    """
    from torchcell.train.pretrain import pretrain_embeddings

    with user_errors(), progress_bar() as progress:
        path = pretrain_embeddings(
            dataset, out, dim, epochs, seed=seed, progress=progress, log=console.print
        )
    console.print(f"wrote {path} (and {path.with_suffix('.json')})")


def compare_cmd(
    configs: list[Path] = typer.Argument(..., help="Training configs, one per model."),
    split: list[Split] = typer.Option(
        [Split.held_out_genes, Split.held_out_pairs],
        help="Splits to train and score on (repeatable).",
    ),
    seeds: int = typer.Option(3, min=1, help="Runs per config (seeds seed, seed + 1, …)."),
    split_seeds: int = typer.Option(
        1,
        min=1,
        help="Splits per split kind (split_seed, split_seed + 1, …): each has its own training "
        "and validation part around the one locked test part (test_seed).",
    ),
    split_seed: int = typer.Option(None, help="Override every config's (first) split_seed."),
    epochs: int = typer.Option(None, help="Override every config's epochs."),
    out: Path = typer.Option(Path("runs/compare"), help="Folder for the runs and compare.md."),
    accelerator: Accelerator = typer.Option(None, help="Override every config's accelerator."),
    overwrite: bool = typer.Option(
        False, help="Train again into a folder that holds a compare (else it is refused)."
    ),
    resume: bool = typer.Option(
        False,
        help="Keep seeds whose folder holds a finished run of the same config and "
        "dataset (a cut-off compare trains only what is missing; not after code changes).",
    ),
) -> None:
    """Train every config SEEDS times on SPLIT_SEEDS splits of every split kind and print one
    table: mean ± SD over the runs and bootstrap intervals, models beside the baselines.

    Prints each run's epochs (validation loss) as they finish.

    Example: tc compare pipeline/train/demo.yaml pipeline/train/hetero_cell.yaml --seeds 3
    """
    from torchcell.train.compare import HEADER as COMPARE_HEADER
    from torchcell.train.compare import compare, table_rows

    with user_errors():
        rows = compare(
            configs, [value(s) for s in split], seeds, split_seeds=split_seeds,
            split_seed=split_seed, epochs=epochs,
            out=out, log=console.print, accelerator=value(accelerator), resume=resume,
            overwrite=overwrite,
        )  # fmt: skip
    print_table(
        "test metrics (checkpoints chosen on validation)", table_rows(rows), COMPARE_HEADER, 3
    )
    console.print(f"wrote {out / 'compare.md'} and {out / 'compare.json'}")


def sweep_cmd(
    spec: Path = typer.Argument(..., help="A sweep spec, e.g. pipeline/sweeps/hetero_cell.yaml."),
    trials: int = typer.Option(20, min=1, help="Finished trials the study should hold."),
    sampler: Sampler = typer.Option(Sampler.tpe, help="tpe (Optuna's TPE) or random."),
    epochs: int = typer.Option(None, help="Override the config's epochs."),
    seed: int = typer.Option(0, help="Seed of the sampler."),
    out: Path = typer.Option(Path("runs/sweep"), help="Study (study.db), trials, best.yaml."),
) -> None:
    """Search the fields a sweep spec names, on validation loss only; resumable.

    Prints each trial's epochs (validation loss) as they finish.

    Example: tc sweep pipeline/sweeps/hetero_cell.yaml --trials 20 --out runs/sweep
    """
    from torchcell.train.sweep import sweep

    with user_errors():
        study = sweep(spec, trials, out, value(sampler), epochs, seed, log=console.print)
    best = study.best_trial
    console.print(
        f"best of {len(study.trials)} trials: trial {best.number}, validation loss "
        f"{best.value:.5f}, {best.params}\nwrote {out / 'best.yaml'}"
    )


def predict_cmd(
    run: Path = typer.Argument(..., help="A run folder of tc train, or its model.pt."),
    genes: list[str] = typer.Option(
        ..., help="One genotype as comma-separated systematic names (repeatable)."
    ),
    environment: str = typer.Option(
        None, help="One of the run's environments (needed when it has several)."
    ),
    dataset: Path = typer.Option(
        None, help="Where the cell graph is read (default: the run's training dataset)."
    ),
) -> None:
    """Predict the labels of genotypes that need not be in any dataset (deletions).

    Example: tc predict runs/demo --genes YAL001C,YBR002C --genes YAL002W
    """
    from torchcell.train.predict import load_model

    with user_errors():
        model = load_model(run, dataset)
        rows = model.predict(
            [[g.strip() for g in text.split(",") if g.strip()] for text in genes], environment
        )
    table = Table(title=f"{model.config.model} from {run}: predictions (label units)")
    for column in ("genes", "environment", *model.labels):
        table.add_column(column, justify="left" if column in ("genes", "environment") else "right")
    for row in rows:
        table.add_row(
            ",".join(row["genes"]), row["environment"], *(f"{row[k]:.5f}" for k in model.labels)
        )
    console.print(table)


def models_cmd() -> None:
    """List the registered models (a training config's model: values).

    Example: tc models
    """
    from torchcell.models import registry

    for name, spec in registry.specs().items():
        console.print(f"{name:<14} {spec.summary}")


def report_cmd(
    compares: list[Path] = typer.Argument(..., help="Folders written by tc compare."),
    out: Path = typer.Option(Path("docs/results.md"), help="The results page to write."),
    readme: Path = typer.Option(
        None, help="Also rewrite the headline table between this file's results markers."
    ),
) -> None:
    """Write the results page, its figures and the headline table from compare.json files.

    Example: tc report runs/real/compare_emap runs/real/compare_smf --out docs/results.md --readme README.md
    """
    from torchcell.train.report import report

    with user_errors():
        written = report(compares, out, readme)
    for path in written:
        console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add the training commands to the ``tc`` app."""
    app.command("train")(train_cmd)
    app.command("evaluate")(evaluate_cmd)
    app.command("pretrain-dango")(pretrain_cmd)
    app.command("compare")(compare_cmd)
    app.command("sweep")(sweep_cmd)
    app.command("predict")(predict_cmd)
    app.command("models")(models_cmd)
    app.command("report")(report_cmd)
