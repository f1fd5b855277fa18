"""What every model returns, and the batch inputs they share.

A model is built from the wildtype ``CellGraph`` (its tensors become buffers, so they follow
the model to a GPU) and is called on a batch from ``PerturbationRepresentation.collate``
(``perturbed``, ``perturbed_kind``, ``num_perturbed`` and the labels). It returns a
``ModelOutput``: predictions of the standardized labels, a latent for contrastive losses, and
for DCell the per-term auxiliary predictions that its loss needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from torchcell.cell.processors import perturbed_genes, perturbed_sets, removed_genes

__all__ = ["ModelOutput", "perturbed_genes", "perturbed_sets", "removed_genes", "summed_features"]


def summed_features(batch, features: torch.Tensor) -> torch.Tensor:
    """(B, F): per sample, the sum of its perturbed genes' rows of ``features`` (num_genes, F)."""
    sample, _ = perturbed_sets(batch)
    out = features.new_zeros(batch.num_perturbed.numel(), features.shape[1])
    return out.index_add_(0, sample, features[batch["gene"].perturbed])


@dataclass
class ModelOutput:
    pred: torch.Tensor
    """(B, L) standardized labels."""
    latent: torch.Tensor | None = None
    """(B, D) the representation the head reads (SupCR uses it)."""
    auxiliary: torch.Tensor | None = None
    """(B, T, L) one prediction per GO term (DCell)."""
    extra_loss: torch.Tensor | None = None
    """A scalar the model adds to the training loss, already weighted (Dango's reconstruction)."""
