"""Per-label regression metrics on the original label scale, NaN labels skipped."""

from __future__ import annotations

import math

import torch
from scipy.stats import rankdata


def pearson(pred: torch.Tensor, true: torch.Tensor) -> float:
    if pred.numel() < 2:
        return float("nan")
    p = pred.double() - pred.double().mean()
    t = true.double() - true.double().mean()
    denom = math.sqrt(float((p * p).sum()) * float((t * t).sum()))
    return float((p * t).sum()) / denom if denom > 0 else float("nan")


def spearman(pred: torch.Tensor, true: torch.Tensor) -> float:
    """Pearson of the ranks, ties sharing their average rank (NaN for a constant input)."""
    if pred.numel() < 2:
        return float("nan")
    ranks = [
        torch.from_numpy(rankdata(x.double().numpy()))
        for x in (pred.detach().cpu(), true.detach().cpu())
    ]
    return pearson(*ranks)


def regression_metrics(pred: torch.Tensor, true: torch.Tensor, labels: list[str]) -> dict:
    """``pred``/``true``: (n, len(labels)); returns {label: {n, mse, pearson, spearman}}."""
    out = {}
    for j, label in enumerate(labels):
        keep = ~torch.isnan(true[:, j])
        p, t = pred[keep, j], true[keep, j]
        out[label] = {
            "n": int(keep.sum()),
            "mse": float(((p - t) ** 2).mean()) if keep.any() else float("nan"),
            "pearson": pearson(p, t),
            "spearman": spearman(p, t),
        }
    return out


def metrics_by_size(
    pred: torch.Tensor, true: torch.Tensor, sizes: torch.Tensor, labels: list[str]
) -> dict:
    """``regression_metrics`` per number of perturbed genes: {"1": singles, "2": doubles, …}."""
    return {
        str(k): regression_metrics(pred[sizes == k], true[sizes == k], labels)
        for k in sorted(set(sizes.tolist()))
    }
