"""Datasets and graph views for training: read shards, build perturbed HeteroData."""

from torchcell.cell.dataset import Neo4jCellDataset

__all__ = ["Neo4jCellDataset"]
