"""PNG plots written at the end of training: loss curves, predicted vs true per label, and the
diagnostics a modeller looks at (``torchcell.train.diagnostics``): the latent space, the
predicted and measured distributions, and the oversmoothing curve of a message-passing model."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from torchcell.train.metrics import pearson  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_history(history: list[dict], best_epoch: int, path: Path) -> Path:
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax.axvline(best_epoch, color="grey", linestyle=":", label=f"kept (epoch {best_epoch})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (standardized labels)")
    ax.legend()
    return _save(fig, path)


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
    return _save(fig, path)


def _labelled(true: torch.Tensor, j: int) -> torch.Tensor:
    return ~torch.isnan(true[:, j])


def plot_latent(latent: torch.Tensor, true: torch.Tensor, labels: list[str], path: Path) -> Path:
    """The first two principal components of the perturbation latent, coloured by each label."""
    z = latent.double() - latent.double().mean(dim=0)
    _, singular, v = torch.linalg.svd(z, full_matrices=False)
    xy = (z @ v[:2].T).float()
    explained = (singular[:2] ** 2 / (singular**2).sum()).tolist()
    fig, axes = plt.subplots(1, len(labels), figsize=(4.5 * len(labels), 4), squeeze=False)
    for j, (label, ax) in enumerate(zip(labels, axes[0], strict=True)):
        keep = _labelled(true, j)
        points = ax.scatter(
            xy[keep, 0].numpy(), xy[keep, 1].numpy(), c=true[keep, j].numpy(), s=6, cmap="viridis"
        )
        fig.colorbar(points, ax=ax, label=label)
        ax.set_xlabel(f"PC1 ({explained[0]:.0%})")
        ax.set_ylabel(f"PC2 ({explained[1]:.0%})")
        ax.set_title(f"test latent by {label}")
    return _save(fig, path)


def plot_distributions(
    pred: torch.Tensor, true: torch.Tensor, labels: list[str], path: Path
) -> Path:
    """Histograms of the predicted and the measured values per label (shrinkage shows here)."""
    fig, axes = plt.subplots(1, len(labels), figsize=(4 * len(labels), 3.5), squeeze=False)
    for j, (label, ax) in enumerate(zip(labels, axes[0], strict=True)):
        keep = _labelled(true, j)
        t, p = true[keep, j].double().numpy(), pred[keep, j].double().numpy()
        # shared edges over both: a nearly constant prediction (a model that learned little)
        # has no 40 finite bins of its own
        bins = np.histogram_bin_edges(np.concatenate([t, p]), bins=40) if t.size else 1
        ax.hist(t, bins=bins, alpha=0.5, density=True, label="measured")
        ax.hist(p, bins=bins, alpha=0.5, density=True, label="predicted")
        ax.set_xlabel(label)
        ax.set_title(
            f"test: sd measured {t.std():.3f}, predicted {p.std():.3f}" if t.size else label
        )
        ax.legend()
    return _save(fig, path)


def plot_oversmoothing(distances: dict[str, list[float]], path: Path) -> Path:
    """Mean pairwise distance of node embeddings after the input and each layer, per node type."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for node_type, values in distances.items():
        ax.plot(range(len(values)), values, marker="o", label=node_type)
    ax.set_xlabel("layer (0: input embeddings)")
    ax.set_ylabel("mean pairwise distance / dim**0.5")
    ax.set_title("oversmoothing: distances shrinking with depth")
    ax.legend()
    return _save(fig, path)
