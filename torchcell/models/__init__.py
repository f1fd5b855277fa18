"""Models that predict phenotypes of perturbed cells (see ``registry.build_model``)."""

from torchcell.models.base import ModelOutput
from torchcell.models.dango import Dango
from torchcell.models.dcell import DCell
from torchcell.models.gene_set import GeneSetModel
from torchcell.models.hetero_cell import HeteroCell
from torchcell.models.registry import build_model

__all__ = ["Dango", "DCell", "GeneSetModel", "HeteroCell", "ModelOutput", "build_model"]
