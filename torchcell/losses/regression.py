"""Regression losses for phenotype prediction.

* ``masked_mse``: MSE over the labels that were measured (NaN targets are skipped);
  ``masked_log_cosh`` the same with log-cosh (Dango's).
* ``dist_loss``: the predictions of a batch, sorted, against pseudo-labels: quantiles of a
  kernel density estimate of the **training split's** labels (``LabelDistribution``, fitted
  once, as in Nie et al.'s DistLoss), so the predicted distribution matches the observed one,
  including its tails, which plain MSE shrinks toward the mean.
* ``supcr_loss``: supervised contrastive regression (Zha et al., 2023) on a latent: for an
  anchor i and a positive j, the other samples k at least as far from i in label space as j
  are the negatives; similarity is the negative Euclidean distance over a temperature.
* ``combined_loss``: MSE + λ_dist · dist + λ_supcr · SupCR.
* ``dcell_loss``: DCell's objective (Ma et al., 2018): the MSE of the root term's output + α ×
  the **sum** over GO terms of their auxiliary outputs' MSE (its L2 penalty is weight decay).
"""

from __future__ import annotations

import math

import torch


def masked_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    keep = ~torch.isnan(target)
    if not keep.any():
        return pred.sum() * 0.0
    return ((pred[keep] - target[keep]) ** 2).mean()


def masked_log_cosh(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean log(cosh(pred − target)) over measured labels (Dango's loss): quadratic near 0,
    linear in the tails; computed as x + softplus(−2x) − log 2, stable for large |x|."""
    keep = ~torch.isnan(target)
    if not keep.any():
        return pred.sum() * 0.0
    x = pred[keep] - target[keep]
    return (x + torch.nn.functional.softplus(-2 * x) - math.log(2.0)).mean()


class LabelDistribution:
    """Gaussian KDEs of the training split's labels, fitted once (DistLoss, Nie et al.):
    ``quantiles(j, n)`` are the n pseudo-labels ((i + 0.5) / n quantiles) that a batch's n
    sorted predictions of label j are compared with. Kept as a CDF on a grid per label.
    """

    def __init__(self, target: torch.Tensor, bandwidth: float | None = None, grid: int = 2048):
        """``target``: (n, L) training labels (NaN where unmeasured)."""
        self.grids: list[tuple[torch.Tensor, torch.Tensor] | None] = []
        for j in range(target.shape[1]):
            values = target[:, j][~torch.isnan(target[:, j])].detach().double().cpu()
            if values.numel() < 2:
                self.grids.append(None)
                continue
            std = values.std().clamp_min(1e-6)
            h = bandwidth or float(1.06 * std * values.numel() ** (-1 / 5))  # Silverman's rule
            xs = torch.linspace(
                float(values.min() - 4 * h), float(values.max() + 4 * h), grid, dtype=torch.double
            )
            cdf = torch.zeros(grid, dtype=torch.double)
            for chunk in values.split(4096):  # (grid × chunk) at a time: bounded memory
                cdf += torch.special.ndtr((xs[:, None] - chunk[None, :]) / h).sum(dim=1)
            self.grids.append((xs, cdf / values.numel()))

    def quantiles(self, label: int, n: int) -> torch.Tensor | None:
        """(n,) float32 pseudo-labels of ``label``, or None when it had < 2 training values."""
        if self.grids[label] is None:
            return None
        xs, cdf = self.grids[label]
        levels = (torch.arange(n, dtype=torch.double) + 0.5) / n
        position = torch.searchsorted(cdf, levels).clamp(1, len(xs) - 1)
        c0, c1 = cdf[position - 1], cdf[position]
        x0, x1 = xs[position - 1], xs[position]
        weight = ((levels - c0) / (c1 - c0).clamp_min(1e-12)).clamp(0, 1)
        return (x0 + weight * (x1 - x0)).float()


def dist_loss(
    pred: torch.Tensor, target: torch.Tensor, distribution: LabelDistribution
) -> torch.Tensor:
    """Per label, MSE between the batch's sorted predictions (of the samples where the label
    was measured) and as many pseudo-labels of the training distribution."""
    losses = []
    for j in range(target.shape[1]):
        keep = ~torch.isnan(target[:, j])
        pseudo = distribution.quantiles(j, int(keep.sum()))
        if pseudo is None or keep.sum() < 2:
            continue
        p = torch.sort(pred[keep, j]).values
        losses.append(((p - pseudo.to(p.device, p.dtype)) ** 2).mean())
    return torch.stack(losses).mean() if losses else pred.sum() * 0.0


def supcr_loss(
    latent: torch.Tensor, target: torch.Tensor, temperature: float = 2.0
) -> torch.Tensor:
    """SupCR over a batch's latent (B, D) and labels (B, L); rows with NaN labels are dropped."""
    keep = ~torch.isnan(target).any(dim=1)
    z, y = latent[keep], target[keep]
    b = z.shape[0]
    if b < 3:
        return latent.sum() * 0.0
    logits = -torch.cdist(z, z) / temperature
    label_distance = torch.cdist(y, y, p=1)
    eye = torch.eye(b, dtype=torch.bool, device=z.device)
    # negatives of (i, j): every k != i with d(i, k) >= d(i, j)
    negatives = (label_distance[:, None, :] >= label_distance[:, :, None]) & ~eye[:, None, :]
    masked = logits[:, None, :].expand(b, b, b).masked_fill(~negatives, -math.inf)
    log_denominator = torch.logsumexp(masked, dim=2)
    pair_loss = -(logits - log_denominator)
    return pair_loss[~eye].mean()


def combined_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    latent: torch.Tensor | None = None,
    lambda_dist: float = 0.0,
    lambda_supcr: float = 0.0,
    distribution: LabelDistribution | None = None,
    regression: str = "mse",
) -> torch.Tensor:
    """``distribution``: the training labels' (needed when ``lambda_dist`` > 0);
    ``regression``: ``mse`` or ``log_cosh``, the main term."""
    loss = (masked_log_cosh if regression == "log_cosh" else masked_mse)(pred, target)
    if lambda_dist:
        if distribution is None:
            raise ValueError("the distribution loss needs the training labels' distribution")
        loss = loss + lambda_dist * dist_loss(pred, target, distribution)
    if lambda_supcr and latent is not None:
        loss = loss + lambda_supcr * supcr_loss(latent, target)
    return loss


def dcell_loss(
    root: torch.Tensor,
    auxiliary: torch.Tensor,
    target: torch.Tensor,
    alpha: float = 0.3,
) -> torch.Tensor:
    """As published: root MSE + α × Σ_terms (term's auxiliary MSE). The paper's L2 term on the
    weights is the optimizer's weight decay (``CellModule.configure_optimizers``).

    Shapes: root (B, L) or (B,), auxiliary (B, T, L) or (B, T), target like root; unmeasured
    (NaN) targets are skipped in every MSE.
    """
    if root.dim() == 1:
        root, auxiliary, target = root[:, None], auxiliary[..., None], target[:, None]
    keep = ~torch.isnan(target)
    root_mse = masked_mse(root, target)
    diff = (auxiliary - torch.nan_to_num(target)[:, None, :]) ** 2 * keep[:, None, :]
    aux_mse = diff.sum(dim=(0, 2)) / keep.sum().clamp_min(1)  # (T,): each term's MSE
    return root_mse + alpha * aux_mse.sum()  # the sum over terms, not the mean
