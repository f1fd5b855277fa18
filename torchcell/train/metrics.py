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


def _rowwise_pearson(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    p, t = p - p.mean(dim=1, keepdim=True), t - t.mean(dim=1, keepdim=True)
    denominator = ((p * p).sum(dim=1) * (t * t).sum(dim=1)).sqrt()
    return (p * t).sum(dim=1) / denominator  # NaN for a constant resample


def _draws(n: int, resamples: int, generator: torch.Generator):
    """Index tensors of ``resamples`` draws of n samples with replacement, 100 draws at a time."""
    for start in range(0, resamples, 100):
        yield torch.randint(n, (min(100, resamples - start), n), generator=generator)


def _tails(level: float) -> torch.Tensor:
    return torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.double)


def bootstrap_ci(
    preds: list[torch.Tensor],
    true: torch.Tensor,
    labels: list[str],
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """Percentile intervals of MSE and Pearson over test samples drawn with replacement.

    ``preds``: one (n, L) prediction per seed, all of the same samples ``true`` (n, L). Each
    resample scores every seed on the same drawn samples and takes the seeds' mean, so the
    interval is that of the mean over seeds. Returns {label: {"mse": [lo, hi], "pearson": …}}.
    """
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for j, label in enumerate(labels):
        keep = ~torch.isnan(true[:, j])
        t = true[keep, j].double()
        ps = [p[keep, j].detach().double().cpu() for p in preds]
        n = t.numel()
        if n < 3:
            out[label] = {"mse": [math.nan, math.nan], "pearson": [math.nan, math.nan]}
            continue
        mse, r = [], []
        for index in _draws(n, resamples, generator):
            drawn = t[index]
            mse.append(sum(((p[index] - drawn) ** 2).mean(dim=1) for p in ps) / len(ps))
            r.append(sum(_rowwise_pearson(p[index], drawn) for p in ps) / len(ps))
        r_all = torch.cat(r)
        r_all = r_all[~torch.isnan(r_all)]
        out[label] = {
            "mse": torch.quantile(torch.cat(mse), _tails(level)).tolist(),
            "pearson": torch.quantile(r_all, _tails(level)).tolist()
            if r_all.numel()
            else [math.nan] * 2,
        }
    return out


def paired_delta_ci(
    preds: list[torch.Tensor], reference: torch.Tensor, true: torch.Tensor, labels: list[str],
    resamples: int = 1000, seed: int = 0, level: float = 0.95,
) -> dict:  # fmt: skip
    """The MSE of a model (the mean over its seeds' ``preds``) minus that of ``reference`` (a
    null's (n, L) prediction), with a percentile interval over test samples drawn with
    replacement, both scored on each drawn set: a paired comparison, so the interval is that of
    the difference (an interval above 0 says the model is worse than the null on this test set;
    below 0, better). Returns {label: {"delta_mse": d, "ci": [lo, hi]}}."""
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for j, label in enumerate(labels):
        keep = ~torch.isnan(true[:, j])
        t = true[keep, j].double()
        # per sample: the seeds' mean squared error minus the null's
        loss = sum((p[keep, j].detach().double().cpu() - t) ** 2 for p in preds) / len(preds)
        gap = loss - (reference[keep, j].double() - t) ** 2
        if t.numel() < 3:
            out[label] = {"delta_mse": math.nan, "ci": [math.nan, math.nan]}
            continue
        means = torch.cat([gap[index].mean(1) for index in _draws(t.numel(), resamples, generator)])
        ci = torch.quantile(means, _tails(level)).tolist()
        out[label] = {"delta_mse": float(gap.mean()), "ci": ci}
    return out
