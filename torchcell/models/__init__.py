"""Models that predict phenotypes of perturbed cells."""

from torchcell.models.gene_set import GeneSetModel

__all__ = ["GeneSetModel"]
