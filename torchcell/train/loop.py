"""``tc train``: fit a model on a materialized dataset with Lightning; report, save, plot.

Labels are standardized with the training split's mean and std (missing labels are masked out
of the loss); metrics are computed after undoing the standardization, in the labels' own units.
The checkpoint kept is the one with the lowest validation loss, and the test split is scored
once, with that checkpoint. The baselines are fitted on the same training split and printed
beside the model.

Output folder: ``model.pt`` (the kept checkpoint: a Lightning checkpoint of ``CellModule`` with
its hyperparameters, what ``tc evaluate``, ``tc predict`` and ``load_model`` read),
``checkpoints/best.ckpt`` (the same weights, as Lightning's callback wrote them), ``logs/metrics.csv`` (and TensorBoard events when tensorboard is
installed), ``metrics.json``, ``loss.png``, ``predictions.png``, the diagnostics' PNGs, and last
``predictions.pt`` (test and baseline predictions, the dataset manifest's sha256: what
``finished_run`` and ``tc compare --resume`` read).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import CSVLogger
from pydantic import ValidationError

from torchcell.cell import CellDataModule
from torchcell.checksum import sha256_file, write_json
from torchcell.errors import TorchCellError
from torchcell.losses import LabelDistribution
from torchcell.provenance import provenance
from torchcell.store.manifest import MANIFEST
from torchcell.train.allocator import keep_freed_memory
from torchcell.train.baselines import baseline_metrics
from torchcell.train.checkpoint import CHECKPOINT
from torchcell.train.config import TrainConfig
from torchcell.train.diagnostics import write_diagnostics
from torchcell.train.metrics import bootstrap_ci
from torchcell.train.module import CellModule, FromNull, label_columns
from torchcell.train.plots import plot_history, plot_predictions

METRICS = "metrics.json"
PREDICTIONS = "predictions.pt"  # written last: its presence marks a finished run


@dataclass(frozen=True)
class TrainResult:
    output: Path
    checkpoint: Path
    metrics_file: Path
    best_epoch: int
    train: dict | None
    """The training split's metrics; None where the config's ``score_train`` is off."""
    val: dict
    test: dict
    test_by_size: dict
    baselines: dict
    """{baseline name: {"val": metrics, "test": metrics, "test_by_size": …, "test_ci": …}} on
    the same split."""
    test_pred: torch.Tensor | None = None
    """(n_test, L) predictions of the kept checkpoint, label units, in test-split order."""
    test_true: torch.Tensor | None = None
    baseline_test_pred: dict[str, torch.Tensor] = field(default_factory=dict)
    """Each baseline's (n_test, L) prediction, same order (for paired comparisons)."""
    test_clusters: list[list[int]] | None = None
    """Per test sample, the units the split holds out (``CellDataModule.clusters``)."""


def dataset_identity(config: TrainConfig) -> str:
    return sha256_file(Path(config.dataset) / MANIFEST)


def finished_run(config: TrainConfig) -> TrainResult | None:
    """The run in ``config.output`` if it finished with this same config (every field, seed
    and output folder included) on the same dataset (sha256 of its manifest); else None.
    It cannot tell whether the code changed since: resuming is the caller's choice."""
    out = Path(config.output)
    if not all((out / name).exists() for name in (CHECKPOINT, METRICS, PREDICTIONS)):
        return None
    metrics = json.loads((out / METRICS).read_text())
    try:  # read back through TrainConfig: a field added since, at its default, is no difference
        ran = TrainConfig.model_validate(metrics["config"])
    except ValidationError:  # a field since removed or changed: not this config
        return None
    saved = torch.load(out / PREDICTIONS, map_location="cpu", weights_only=True)
    if ran != config or saved["dataset_manifest"] != dataset_identity(config):
        return None
    return TrainResult(
        out, out / CHECKPOINT, out / METRICS, metrics["best_epoch"], metrics["train"],
        metrics["val"], metrics["test"], metrics["test_by_size"], metrics["baselines"],
        saved["test_pred"], saved["test_true"], saved["baseline_test_pred"],
        saved.get("test_clusters"),
    )  # fmt: skip


def data_module(config: TrainConfig) -> CellDataModule:
    """The config's dataset, after checking it against its manifest (counts and sha256)."""
    from torchcell.store.materialize import require_intact

    require_intact(config.dataset)
    return CellDataModule(
        config.dataset, split=config.split, val_fraction=config.val_fraction,
        test_fraction=config.test_fraction, batch_size=config.batch_size,
        seed=config.split_seed, shuffle_seed=config.seed, num_workers=config.num_workers,
        test_seed=config.test_seed,
    )  # fmt: skip


def _loggers(out: Path) -> list:
    loggers = [CSVLogger(out, name="logs", version="")]
    try:
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(out, name="logs", version=""))
    except ModuleNotFoundError:  # tensorboard is optional
        pass
    return loggers


def quiet_lightning() -> None:
    for name in ("lightning.pytorch", "lightning.fabric", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*LeafSpec.*")
    warnings.filterwarnings("ignore", ".*The `srun` command is available.*")


@dataclass
class Fitted:
    """What ``fit`` leaves for ``write_run``: the trained module (kept checkpoint's weights
    loaded by the last test), its data, and the kept checkpoint."""

    config: TrainConfig
    module: CellModule
    data: CellDataModule
    best_path: Path
    best_epoch: int
    scores: dict
    """{"test": …, "train": …} the kept checkpoint's ``CellModule.test_result`` per split."""


def train(
    config: TrainConfig,
    progress_bar: bool = True,
    log: Callable[[str], None] = print,
    overwrite: bool = False,
) -> TrainResult | None:
    """Fit, test with the kept checkpoint, write the results; None on non-zero DDP ranks.

    A folder that holds a run (``model.pt`` or ``metrics.json``) is refused unless ``overwrite``.
    """
    held = [name for name in (CHECKPOINT, METRICS) if (Path(config.output) / name).exists()]
    if held and not overwrite:
        raise TorchCellError(
            f"{config.output} already holds a run ({', '.join(held)}); pass --overwrite to replace "
            "it or --out to write elsewhere"
        )
    fitted = fit(config, progress_bar, log)
    if fitted is None:
        return None
    return write_run(fitted)


def fit(
    config: TrainConfig, progress_bar: bool = True, log: Callable[[str], None] = print
) -> Fitted | None:
    """Train ``config``'s model, keep the checkpoint with the lowest validation loss and score
    it on the test split (and the training split with ``score_train``); None on non-zero ranks."""
    quiet_lightning()
    keep_freed_memory()  # every step reallocates the same large tensors (see allocator.py)
    L.seed_everything(config.seed, workers=True, verbose=False)
    data = data_module(config)
    distribution = None
    if config.loss.lambda_dist:  # fitted once, on the training split only
        columns = label_columns(config, data)
        mean, std = data.standardizer.mean[columns], data.standardizer.std[columns]
        train_y = data.y[data.indices["train"]][:, columns]
        distribution = LabelDistribution((train_y - mean) / std)
    module = CellModule.from_data(config, data, log=log, distribution=distribution)
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    best = ModelCheckpoint(  # weights only: the optimizer's state would triple its size
        dirpath=out / "checkpoints", filename="best", monitor="val_loss", mode="min",
        save_weights_only=True,
    )  # fmt: skip
    best.CHECKPOINT_NAME_LAST = "last"
    callbacks = [best, RichProgressBar()] if progress_bar else [best]
    if config.patience:
        callbacks.append(EarlyStopping(monitor="val_loss", mode="min", patience=config.patience))
    for stale in [*(out / "checkpoints").glob("best*.ckpt"), out / PREDICTIONS]:
        stale.unlink(missing_ok=True)  # a rerun into the same folder starts from a clean slate
    trainer = L.Trainer(
        max_epochs=config.epochs, accelerator=config.accelerator, devices=config.devices,
        precision=config.precision, callbacks=callbacks, logger=_loggers(out),
        # DDP must allow parameters without a gradient in a step (e.g. DCell's root has an
        # auxiliary head the loss leaves out, HeteroCell's last metabolite update feeds nothing)
        strategy="ddp_find_unused_parameters_true" if config.devices > 1 else "auto",
        enable_progress_bar=progress_bar, enable_model_summary=False, num_sanity_val_steps=0,
        log_every_n_steps=1, deterministic="warn",
    )  # fmt: skip
    sizes = {k: len(v) for k, v in data.indices.items()}
    n_parameters = sum(p.numel() for p in module.model.parameters())
    if trainer.is_global_zero:  # each DDP rank runs this function; rank 0 alone reports
        log(
            f"training {config.model} ({n_parameters:,} parameters) on "
            f"{sizes['train']} samples ({config.split} split), validating on {sizes['val']}"
        )
    trainer.fit(module, datamodule=data)
    best_path = Path(best.best_model_path)
    best_epoch = int(torch.load(best_path, map_location="cpu", weights_only=True)["epoch"]) + 1
    scores = {}  # the kept checkpoint on the training split (unshuffled) and the test split
    for part in ("train", "test") if config.score_train else ("test",):
        loader = data.loader(part, shuffle=False)
        trainer.test(module, loader, ckpt_path=best_path, verbose=False)
        scores[part] = module.test_result
    if not trainer.is_global_zero:
        return None
    return Fitted(config, module, data, best_path, best_epoch, scores)


def write_run(fitted: Fitted) -> TrainResult:
    """The run's files: ``model.pt`` (the kept checkpoint, self-describing), ``metrics.json``
    with the baselines beside the model and the test bootstrap, the plots, and last
    ``predictions.pt``."""
    config, module, data = fitted.config, fitted.module, fitted.data
    out, best_epoch = Path(config.output), fitted.best_epoch
    test, train_metrics = fitted.scores["test"], fitted.scores.get("train", {}).get("metrics")
    history = module.history
    val = history[best_epoch - 1]["val"]
    fitted_nulls = module.model.null.fitted if isinstance(module.model, FromNull) else None
    baselines, baseline_preds = baseline_metrics(data, module.columns, config.labels, fitted_nulls)
    checkpoint = torch.load(fitted.best_path, map_location="cpu", weights_only=True)
    checkpoint["best_epoch"] = best_epoch
    checkpoint["provenance"] = provenance(dataset_identity(config))
    checkpoint_file = out / CHECKPOINT
    torch.save(checkpoint, out / f"{CHECKPOINT}.partial")
    (out / f"{CHECKPOINT}.partial").replace(checkpoint_file)
    sizes = {k: len(v) for k, v in data.indices.items()}
    clusters = data.clusters("test")
    metrics_file = write_json(
        out / METRICS,
        {
            "best_epoch": best_epoch, "train": train_metrics, "val": val,
            "test": test["metrics"],
            "test_ci": bootstrap_ci([test["pred"]], test["true"], config.labels,
                                    clusters=clusters),
            "test_by_size": test["by_size"], "baselines": baselines, "history": history,
            "splits": sizes, "config": config.model_dump(mode="json"),
            "provenance": checkpoint["provenance"],
        },
        indent=2,
    )  # fmt: skip
    plot_history(history, best_epoch, out / "loss.png")
    plot_predictions(test["pred"], test["true"], config.labels, out / "predictions.png")
    distances = write_diagnostics(
        module.network, data.loader("test", shuffle=False), test["pred"], test["true"],
        config.labels, out,
    )  # fmt: skip
    if distances:
        write_json(out / "oversmoothing.json", distances, indent=2)
    predictions = {  # for ``finished_run``: what ``tc compare --resume`` needs of a kept run
        "test_pred": test["pred"], "test_true": test["true"],
        "baseline_test_pred": baseline_preds, "dataset_manifest": checkpoint["provenance"]["dataset_manifest"],
        "test_clusters": clusters,
    }  # fmt: skip
    torch.save(predictions, out / f"{PREDICTIONS}.partial")
    (out / f"{PREDICTIONS}.partial").replace(out / PREDICTIONS)
    return TrainResult(
        out,
        checkpoint_file,
        metrics_file,
        best_epoch,
        train_metrics,
        val,
        test["metrics"],
        test["by_size"],
        baselines,
        test["pred"],
        test["true"],
        baseline_preds,
        clusters,
    )
