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


def replicate_ceiling(true: torch.Tensor, se: torch.Tensor, labels: list[str]) -> dict:
    """What a model that knew every genotype's true mean would score, on the samples whose
    label has a standard error (``*_se``: merged from ≥ 2 replicates). Their measured mean ȳ
    misses the true mean by E[(ȳ − μ)²] = SE², so that model's MSE is the mean SE², and its
    Pearson is at most √(1 − mean SE² / var ȳ) (the labels' reliability). ``true``, ``se``:
    (n, L); returns {label: {n, mse, pearson, spearman}} (spearman NaN)."""
    out = {}
    for j, label in enumerate(labels):
        keep = ~torch.isnan(true[:, j]) & ~torch.isnan(se[:, j])
        n = int(keep.sum())
        noise = float(se[keep, j].double().pow(2).mean()) if n else math.nan
        spread = float(true[keep, j].double().var()) if n > 1 else math.nan
        reliable = 1 - noise / spread if spread == spread and spread > 0 else math.nan
        out[label] = {
            "n": n, "mse": noise, "pearson": math.sqrt(max(reliable, 0.0)) if n > 1 else math.nan,
            "spearman": math.nan,
        }  # fmt: skip
    return out


def _draws(n: int, resamples: int, generator: torch.Generator):
    """Index tensors of ``resamples`` draws of n samples with replacement, 100 draws at a time."""
    for start in range(0, resamples, 100):
        yield torch.randint(n, (min(100, resamples - start), n), generator=generator)


def _weights(clusters: list[list[int]] | None, n: int, resamples: int, generator):
    """(draws, n) sample weights, 100 draws at a time.

    Without ``clusters``: samples drawn with replacement (a weight is how often a sample was
    drawn). With ``clusters`` (per sample, the ids of the units it belongs to, e.g. its test
    genes): the units are drawn with replacement and a sample weighs the product of its units'
    counts, so samples that share a gene rise and fall together (a cluster, or for pairs a
    two-way, bootstrap). A sample with no unit weighs 1.
    """
    if clusters is None:
        for index in _draws(n, resamples, generator):
            w = torch.zeros(index.shape[0], n, dtype=torch.double)
            yield w.scatter_add_(1, index, torch.ones_like(index, dtype=torch.double))
        return
    ids = sorted({c for units in clusters for c in units})
    position = {c: i for i, c in enumerate(ids)}
    width = max((len(u) for u in clusters), default=0)
    member = torch.full((n, max(width, 1)), len(ids), dtype=torch.long)  # len(ids): count 1
    for i, units in enumerate(clusters):
        member[i, : len(units)] = torch.tensor([position[c] for c in units], dtype=torch.long)
    for index in _draws(len(ids), resamples, generator):
        counts = torch.zeros(index.shape[0], len(ids) + 1, dtype=torch.double)
        counts.scatter_add_(1, index, torch.ones_like(index, dtype=torch.double))
        counts[:, -1] = 1.0
        yield counts[:, member].prod(dim=2)


def _weighted_mse(p: torch.Tensor, t: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (w * (p - t) ** 2).sum(1) / w.sum(1)


def _weighted_pearson(p: torch.Tensor, t: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    total = w.sum(1, keepdim=True)
    dp = p - (w * p).sum(1, keepdim=True) / total
    dt = t - (w * t).sum(1, keepdim=True) / total
    cov = (w * dp * dt).sum(1)
    return cov / ((w * dp * dp).sum(1) * (w * dt * dt).sum(1)).sqrt()  # NaN when constant


def _tails(level: float) -> torch.Tensor:
    return torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.double)


def _kept_clusters(clusters, keep: torch.Tensor):
    return None if clusters is None else [clusters[i] for i in keep.nonzero().flatten().tolist()]


def bootstrap_ci(
    preds: list[torch.Tensor],
    true: torch.Tensor,
    labels: list[str],
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    clusters: list[list[int]] | None = None,
) -> dict:
    """Percentile intervals of MSE and Pearson over bootstrap resamples of the test set.

    ``preds``: one (n, L) prediction per seed, all of the same samples ``true`` (n, L). Each
    resample scores every seed on the same resampled set and takes the seeds' mean, so the
    interval is that of the mean over seeds. ``clusters``: per sample, the units the split
    holds out (its test genes; see ``_weights``); None: samples resampled independently.
    Returns {label: {"mse": [lo, hi], "pearson": …}}.
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
        for w in _weights(_kept_clusters(clusters, keep), n, resamples, generator):
            mse.append(sum(_weighted_mse(p[None], t[None], w) for p in ps) / len(ps))
            r.append(sum(_weighted_pearson(p[None], t[None], w) for p in ps) / len(ps))
        mse_all, r_all = torch.cat(mse), torch.cat(r)
        mse_all, r_all = mse_all[~torch.isnan(mse_all)], r_all[~torch.isnan(r_all)]
        out[label] = {
            "mse": torch.quantile(mse_all, _tails(level)).tolist(),
            "pearson": torch.quantile(r_all, _tails(level)).tolist()
            if r_all.numel()
            else [math.nan] * 2,
        }
    return out


def _squared(runs: list[torch.Tensor], keep: torch.Tensor, j: int, t: torch.Tensor):
    """Per kept sample, the squared error of column ``j`` averaged over ``runs``."""
    return sum((p[keep, j].detach().double().cpu() - t) ** 2 for p in runs) / len(runs)


def paired_delta_ci(
    preds: list[torch.Tensor], reference: torch.Tensor | list[torch.Tensor], true: torch.Tensor,
    labels: list[str],
    resamples: int = 1000, seed: int = 0, level: float = 0.95,
    clusters: list[list[int]] | None = None,
) -> dict:  # fmt: skip
    """The MSE of a model (the mean over its seeds' ``preds``) minus that of ``reference`` (a
    null's (n, L) prediction, or one per run of ``preds``: the null of each run's own split),
    with a percentile interval over bootstrap resamples of the test set (``clusters`` as in
    ``bootstrap_ci``), both scored on each resample: a paired comparison, so the interval is that of the difference (above 0: the model is worse than
    the null on this test set; below 0, better). Returns {label: {"delta_mse": d, "ci": …}}."""
    generator = torch.Generator().manual_seed(seed)
    references = reference if isinstance(reference, list) else [reference]
    out = {}
    for j, label in enumerate(labels):
        keep = ~torch.isnan(true[:, j])
        t = true[keep, j].double()

        # per sample: the runs' mean squared error minus the null's
        gap = _squared(preds, keep, j, t) - _squared(references, keep, j, t)
        if t.numel() < 3:
            out[label] = {"delta_mse": math.nan, "ci": [math.nan, math.nan]}
            continue
        means = torch.cat([
            (w * gap).sum(1) / w.sum(1)
            for w in _weights(_kept_clusters(clusters, keep), t.numel(), resamples, generator)
        ])  # fmt: skip
        means = means[~torch.isnan(means)]
        ci = torch.quantile(means, _tails(level)).tolist()
        out[label] = {"delta_mse": float(gap.mean()), "ci": ci}
    return out
