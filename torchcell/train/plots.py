"""PNG plots written at the end of training: loss curves, and predicted vs true per label."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from torchcell.train.metrics import pearson  # noqa: E402


def plot_history(history: list[dict], best_epoch: int, path: Path) -> Path:
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax.axvline(best_epoch, color="grey", linestyle=":", label=f"kept (epoch {best_epoch})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (standardized labels)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_predictions(pred: torch.Tensor, true: torch.Tensor, labels: list[str], path: Path) -> Path:
    fig, axes = plt.subplots(1, len(labels), figsize=(4 * len(labels), 4), squeeze=False)
    for j, (label, ax) in enumerate(zip(labels, axes[0], strict=True)):
        keep = ~torch.isnan(true[:, j])
        p, t = pred[keep, j].float(), true[keep, j].float()
        ax.scatter(t.numpy(), p.numpy(), s=6, alpha=0.5)
        if t.numel():
            lo, hi = float(torch.minimum(t.min(), p.min())), float(torch.maximum(t.max(), p.max()))
            ax.plot([lo, hi], [lo, hi], color="grey", linewidth=0.8)
        ax.set_title(f"{label}: r = {pearson(p, t):.3f} (n = {int(keep.sum())})")
        ax.set_xlabel("measured")
        ax.set_ylabel("predicted")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
