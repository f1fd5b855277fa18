"""Training losses: masked MSE, the distribution loss, supervised contrastive regression, DCell's."""

from torchcell.losses.regression import (
    LabelDistribution,
    combined_loss,
    dcell_loss,
    dist_loss,
    masked_log_cosh,
    masked_mse,
    supcr_loss,
)

__all__ = [
    "LabelDistribution",
    "combined_loss",
    "dcell_loss",
    "dist_loss",
    "masked_log_cosh",
    "masked_mse",
    "supcr_loss",
]
