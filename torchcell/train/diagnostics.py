"""Diagnostics written beside every run's metrics (PNGs in the run folder):

* ``latent.png``: PCA of the test samples' perturbation latent (what the head reads),
  coloured by each label: does the latent order the samples by phenotype?
* ``distributions.png``: predicted and measured test distributions per label: MSE training
  shrinks the predictions toward the mean, which shows here and not in a correlation.
* ``oversmoothing.png`` (message-passing models): mean pairwise distance of the wildtype's node
  embeddings after the input and after each layer; a curve falling toward 0 means the layers
  make the nodes alike.
"""

from __future__ import annotations

from pathlib import Path

import torch

from torchcell.train.plots import plot_distributions, plot_latent, plot_oversmoothing


def mean_pairwise_distance(x: torch.Tensor, sample: int = 1000, seed: int = 0) -> float:
    """Mean Euclidean distance between rows (at most ``sample`` of them), over √dim."""
    if x.shape[0] < 2:
        return float("nan")
    generator = torch.Generator().manual_seed(seed)
    rows = torch.randperm(x.shape[0], generator=generator)[:sample]
    y = x[rows.to(x.device)].double()
    n = y.shape[0]
    return float(torch.cdist(y, y).sum() / (n * (n - 1)) / y.shape[1] ** 0.5)


@torch.no_grad()
def latents_of(model: torch.nn.Module, loader, device: torch.device) -> torch.Tensor | None:
    model.eval()
    latents = []
    for batch in loader:
        latent = model(batch.to(device)).latent
        if latent is None:
            return None
        latents.append(latent.float().cpu())
    return torch.cat(latents) if latents else None


@torch.no_grad()
def oversmoothing(model: torch.nn.Module) -> dict[str, list[float]] | None:
    if not hasattr(model, "layer_states"):
        return None
    model.eval()
    states = model.layer_states()
    return {
        node_type: [mean_pairwise_distance(h[node_type]) for h in states]
        for node_type in states[0]
        if states[0][node_type].shape[0] > 1
    }


def write_diagnostics(
    model: torch.nn.Module, loader, pred: torch.Tensor, true: torch.Tensor, labels, out: Path
) -> dict:
    """Writes the PNGs; returns the oversmoothing distances (for metrics.json) or {}."""
    out = Path(out)
    device = next(model.parameters()).device
    latent = latents_of(model, loader, device)
    if latent is not None and latent.shape[0] >= 3:
        plot_latent(latent, true, labels, out / "latent.png")
    plot_distributions(pred, true, labels, out / "distributions.png")
    distances = oversmoothing(model)
    if distances:
        plot_oversmoothing(distances, out / "oversmoothing.png")
    return distances or {}
