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
from torch_geometric.loader import DataLoader

from torchcell.cell import Neo4jCellDataset
from torchcell.models import GeneSetModel
from torchcell.progress import Progress, no_progress
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


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def split_indices(n: int, val: float, test: float, seed: int) -> dict[str, torch.Tensor]:
    """A seeded random split into train/val/test index tensors."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val, n_test = int(round(n * val)), int(round(n * test))
    return {
        "val": perm[:n_val],
        "test": perm[n_val : n_val + n_test],
        "train": perm[n_val + n_test :],
    }


def label_scaler(
    dataset: Neo4jCellDataset, train_idx: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.cat([dataset[int(i)].y for i in train_idx])
    mean = torch.nanmean(y, dim=0)
    std = torch.sqrt(torch.nanmean((y - mean) ** 2, dim=0)).clamp_min(1e-6)
    return mean, std


def masked_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    keep = ~torch.isnan(target)
    return ((pred[keep] - target[keep]) ** 2).mean()


def _masks(batch, num_genes: int) -> torch.Tensor:
    return batch["gene"].pert_mask.view(-1, num_genes)


@torch.no_grad()
def predict(model, loader, num_genes, mean, std, device) -> tuple[torch.Tensor, torch.Tensor]:
    model.eval()
    preds, trues = [], []
    for batch in loader:
        batch = batch.to(device)
        preds.append((model(_masks(batch, num_genes)) * std + mean).cpu())
        trues.append(batch.y.cpu())
    return torch.cat(preds), torch.cat(trues)


def train(
    config: TrainConfig,
    progress: Progress = no_progress,
    log: Callable[[str], None] = print,
) -> TrainResult:
    seed_everything(config.seed)
    device = torch.device(config.device)
    dataset = Neo4jCellDataset(config.dataset)
    labels, num_genes = dataset.labels, dataset.num_genes
    splits = split_indices(len(dataset), config.val_fraction, config.test_fraction, config.seed)
    mean, std = label_scaler(dataset, splits["train"])
    mean, std = mean.to(device), std.to(device)
    loaders = {
        name: DataLoader(
            dataset[idx], batch_size=config.batch_size, shuffle=(name == "train"),
            num_workers=config.num_workers, generator=torch.Generator().manual_seed(config.seed),
        )
        for name, idx in splits.items()
    }  # fmt: skip
    model = GeneSetModel(num_genes, len(labels), config.hidden, config.dropout).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )

    history, best, best_state = [], (math.inf, -1), None
    log(
        f"training {config.model} on {len(splits['train'])} experiments, validating on {len(splits['val'])}"
    )
    for epoch in range(1, config.epochs + 1):
        model.train()
        advance = progress(f"epoch {epoch}/{config.epochs}", len(loaders["train"]))
        total, seen = 0.0, 0
        for batch in loaders["train"]:
            batch = batch.to(device)
            loss = masked_mse(model(_masks(batch, num_genes)), (batch.y - mean) / std)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss) * batch.num_graphs
            seen += batch.num_graphs
            advance(1)
        pred, true = predict(model, loaders["val"], num_genes, mean, std, device)
        val_loss = float(
            masked_mse((pred - mean.cpu()) / std.cpu(), (true - mean.cpu()) / std.cpu())
        )
        val = regression_metrics(pred, true, labels)
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
        *predict(model, loaders["test"], num_genes, mean, std, device), labels
    )
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / CHECKPOINT
    torch.save(
        {
            "model": config.model,
            "state_dict": model.state_dict(),
            "num_genes": num_genes,
            "labels": labels,
            "label_mean": mean.cpu(),
            "label_std": std.cpu(),
            "config": config.model_dump(mode="json"),
            "epoch": best[1],
        },
        checkpoint,
    )
    metrics_file = out / METRICS
    metrics_file.write_text(
        json.dumps(
            {"best_epoch": best[1], "val": val, "test": test, "history": history,
             "splits": {k: len(v) for k, v in splits.items()}, "config": config.model_dump(mode="json")},
            indent=2,
        )
    )  # fmt: skip
    return TrainResult(out, checkpoint, metrics_file, best[1], val, test)
