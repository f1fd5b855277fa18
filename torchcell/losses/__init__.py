"""Training losses: masked MSE, the distribution loss, supervised contrastive regression, DCell's."""

from torchcell.losses.regression import (
    combined_loss,
    dcell_loss,
    dist_loss,
    kde_pseudo_labels,
    masked_mse,
    supcr_loss,
)

__all__ = [
    "combined_loss",
    "dcell_loss",
    "dist_loss",
    "kde_pseudo_labels",
    "masked_mse",
    "supcr_loss",
]
