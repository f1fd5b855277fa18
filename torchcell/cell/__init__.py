"""Datasets and graph views for training: read shards, build perturbed HeteroData."""

from torchcell.cell.data import CellData
from torchcell.cell.datamodule import CellDataModule
from torchcell.cell.dataset import CellDataset, Neo4jCellDataset
from torchcell.cell.graph import CellGraph
from torchcell.cell.processors import (
    DCellRepresentation,
    PerturbationRepresentation,
    SubgraphRepresentation,
)
from torchcell.cell.transforms import LabelStandardizer

__all__ = [
    "CellData",
    "CellDataModule",
    "CellDataset",
    "CellGraph",
    "DCellRepresentation",
    "LabelStandardizer",
    "Neo4jCellDataset",
    "PerturbationRepresentation",
    "SubgraphRepresentation",
]
