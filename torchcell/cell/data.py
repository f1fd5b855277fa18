"""``CellData``: the HeteroData of one sample, batched correctly by PyG.

The metabolic hypergraph ``(metabolite, reaction, metabolite)`` keeps its incidence in
``hyperedge_index`` (row 0: metabolite, row 1: reaction = hyperedge), so when samples are
batched its rows must be offset by the number of metabolites and of reactions, not twice by
the number of metabolites as PyG would do for an ``edge_index``.
"""

from __future__ import annotations

import torch
from torch_geometric.data import HeteroData


class CellData(HeteroData):
    def __inc__(self, key, value, store=None, *args, **kwargs):
        if key == "hyperedge_index":
            return torch.tensor([[self["metabolite"].num_nodes], [self["reaction"].num_nodes]])
        if key in ("perturbed", "node_ids", "edge_ids"):
            return 0  # wildtype indices, the same space in every sample
        return super().__inc__(key, value, store, *args, **kwargs)
