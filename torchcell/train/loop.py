"""``tc train``: fit a model on a materialized dataset, report per-label metrics, save results.

Labels are standardized with the training split's mean and std (missing labels are masked out
of the loss); metrics are computed after undoing the standardization, in the labels' own units.
The test split is scored once, with the weights of the epoch that was best on validation.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from torchcell.cell import CellDataModule
from torchcell.cell.processors import removed_genes
from torchcell.errors import TorchCellError
from torchcell.models import GeneSetModel
from torchcell.progress import Progress, no_progress
from torchcell.train.baselines import AdditiveRidge, MeanBaseline, MultiplicativeBaseline
from torchcell.train.config import TrainConfig
from torchcell.train.metrics import regression_metrics

CHECKPOINT = "model.pt"
METRICS = "metrics.json"


@dataclass(frozen=True)
class TrainResult:
    output: Path
    checkpoint: Path
    metrics_file: Path
    best_epoch: int
    val: dict
    test: dict
    baselines: dict
    """{baseline name: {"val": metrics, "test": metrics}} on the same split."""


def baseline_metrics(data: CellDataModule, columns: list[int], labels: list[str]) -> dict:
    """The mean, multiplicative and additive-ridge baselines fitted on the training split."""
    y = data.y[:, columns]
    genotypes = data.genotypes
    part = {k: v.tolist() for k, v in data.indices.items()}
    out = {}
    for model in (
        MeanBaseline(),
        MultiplicativeBaseline(labels),
        AdditiveRidge(data.dataset.num_genes),
    ):
        model.fit([genotypes[i] for i in part["train"]], y[part["train"]])
        out[model.name] = {
            split: regression_metrics(
                model.predict([genotypes[i] for i in part[split]]), y[part[split]], labels
            )
            for split in ("val", "test")
        }
    return out


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def masked_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    keep = ~torch.isnan(target)
    return ((pred[keep] - target[keep]) ** 2).mean()


@torch.no_grad()
def predict(
    model, loader, columns, standardizer, num_genes, device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Predictions and targets of a loader, in the labels' own units."""
    model.eval()
    preds, trues = [], []
    for batch in loader:
        batch = batch.to(device)
        preds.append(standardizer.inverse(model(removed_genes(batch, num_genes))).cpu())
        trues.append(batch.y[:, columns].cpu())
    return torch.cat(preds), torch.cat(trues)


def train(
    config: TrainConfig,
    progress: Progress = no_progress,
    log: Callable[[str], None] = print,
) -> TrainResult:
    seed_everything(config.seed)
    device = torch.device(config.device)
    data = CellDataModule(
        config.dataset, split=config.split, val_fraction=config.val_fraction,
        test_fraction=config.test_fraction, batch_size=config.batch_size, seed=config.seed,
        num_workers=config.num_workers,
    )  # fmt: skip
    missing = [label for label in config.labels if label not in data.dataset.labels]
    if missing:
        raise TorchCellError(f"the dataset has no label(s) {missing}; it has {data.dataset.labels}")
    columns = [data.dataset.labels.index(label) for label in config.labels]
    standardizer = type(data.standardizer)(
        config.labels, data.standardizer.mean[columns], data.standardizer.std[columns]
    )
    num_genes = data.dataset.num_genes
    loaders = {part: data.loader(part) for part in ("train", "val", "test")}
    model = GeneSetModel(num_genes, len(config.labels), config.hidden, config.dropout).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )

    history, best, best_state = [], (math.inf, -1), None
    sizes = {k: len(v) for k, v in data.indices.items()}
    log(
        f"training {config.model} on {sizes['train']} samples ({config.split} split), validating on {sizes['val']}"
    )
    for epoch in range(1, config.epochs + 1):
        model.train()
        advance = progress(f"epoch {epoch}/{config.epochs}", len(loaders["train"]))
        total, seen = 0.0, 0
        for batch in loaders["train"]:
            batch = batch.to(device)
            target = standardizer.transform(batch.y[:, columns])
            loss = masked_mse(model(removed_genes(batch, num_genes)), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss) * batch.y.shape[0]
            seen += batch.y.shape[0]
            advance(1)
        pred, true = predict(model, loaders["val"], columns, standardizer, num_genes, device)
        val_loss = float(masked_mse(standardizer.transform(pred), standardizer.transform(true)))
        val = regression_metrics(pred, true, config.labels)
        history.append(
            {"epoch": epoch, "train_loss": total / seen, "val_loss": val_loss, "val": val}
        )
        log(
            f"epoch {epoch:3d}  train loss {total / seen:.4f}  val loss {val_loss:.4f}  "
            + "  ".join(f"val pearson {k} {v['pearson']:.3f}" for k, v in val.items())
        )
        if val_loss < best[0]:
            best, best_state = (val_loss, epoch), copy.deepcopy(model.state_dict())

    model.load_state_dict(best_state)
    val = history[best[1] - 1]["val"]
    test = regression_metrics(
        *predict(model, loaders["test"], columns, standardizer, num_genes, device), config.labels
    )
    baselines = baseline_metrics(data, columns, config.labels)
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / CHECKPOINT
    torch.save(
        {
            "model": config.model,
            "state_dict": model.state_dict(),
            "num_genes": num_genes,
            "labels": config.labels,
            "label_mean": standardizer.mean,
            "label_std": standardizer.std,
            "config": config.model_dump(mode="json"),
            "epoch": best[1],
        },
        checkpoint,
    )
    metrics_file = out / METRICS
    metrics_file.write_text(
        json.dumps(
            {"best_epoch": best[1], "val": val, "test": test, "baselines": baselines, "history": history,
             "splits": sizes, "config": config.model_dump(mode="json")},
            indent=2,
        )
    )  # fmt: skip
    return TrainResult(out, checkpoint, metrics_file, best[1], val, test, baselines)
