"""TorchCell: public yeast genetics -> Neo4j knowledge graph -> LMDB datasets -> GNNs.

The stages, each a subpackage that only imports the ones before it:
``schema`` -> ``sources`` -> ``graphdb`` -> ``store`` -> ``cell`` -> ``models`` -> ``train`` -> ``cli``.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "CellDataset": "torchcell.cell",
    "CellDataModule": "torchcell.cell",
    "CellGraph": "torchcell.cell",
    "Neo4jCellDataset": "torchcell.cell",
    "TrainConfig": "torchcell.train.config",
    "CellModule": "torchcell.train.module",
    "evaluate": "torchcell.train.evaluate",
    "load_model": "torchcell.train.predict",
    "ModelSpec": "torchcell.models.registry",
    "register": "torchcell.models.registry",
}
"""The notebook API, imported on first use (``import torchcell`` alone stays cheap for the CLI):
``from torchcell import CellDataset, CellDataModule, TrainConfig, train, evaluate, load_model``;
``ModelSpec`` and ``register`` add a model (``torchcell.models.registry``)."""

__all__ = [*_API, "train", "__version__"]
# ``train``: the subpackage torchcell.train, callable as torchcell.train.loop.train


def __getattr__(name: str):
    if name == "train":
        return importlib.import_module("torchcell.train")
    if name not in _API:
        raise AttributeError(f"module 'torchcell' has no attribute {name!r}")
    return getattr(importlib.import_module(_API[name]), name)
