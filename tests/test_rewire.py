"""The rewired-graph control keeps every gene's degree and changes which genes are linked."""

from __future__ import annotations

import random
from collections import Counter

import torch

from torchcell.cell.rewire import swapped


def _graph(n: int, m: int, seed: int, directed: bool) -> torch.Tensor:
    rng, edges = random.Random(seed), set()
    while len(edges) < m:
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b:
            edges.add((a, b) if directed else (min(a, b), max(a, b)))
    return torch.tensor(sorted(edges)).t()


def test_undirected_swaps_keep_degrees_and_leave_few_edges_in_place():
    edges = _graph(300, 1500, 0, directed=False)
    out = swapped(edges, random.Random(1), directed=False)
    assert Counter(edges.flatten().tolist()) == Counter(out.flatten().tolist())
    pairs = [tuple(p) for p in out.t().tolist()]
    assert all(a < b for a, b in pairs) and len(set(pairs)) == len(pairs)  # no loops, no duplicates
    kept = set(pairs) & {tuple(p) for p in edges.t().tolist()}
    assert len(kept) < 0.1 * len(pairs)
    assert torch.equal(out, swapped(edges, random.Random(1), directed=False))  # seeded


def test_directed_swaps_keep_in_and_out_degrees():
    edges = _graph(200, 800, 2, directed=True)
    out = swapped(edges, random.Random(3), directed=True)
    assert Counter(edges[0].tolist()) == Counter(out[0].tolist())
    assert Counter(edges[1].tolist()) == Counter(out[1].tolist())
    pairs = [tuple(p) for p in out.t().tolist()]
    assert len(set(pairs)) == len(pairs) and all(a != b for a, b in pairs)


def test_graph_controls_reach_the_model(sample_dataset):
    """rewired_graph keeps each gene's physical degree and moves its links; edgeless_graph
    leaves the model no gene–gene edge (GPR and GO stay); the two cannot be combined."""
    import pytest

    from torchcell.cell.graph import CellGraph
    from torchcell.train.config import TrainConfig
    from torchcell.train.module import CellModule

    cell = CellGraph.load(sample_dataset)

    def built(**control):
        config = TrainConfig(dataset=sample_dataset, output="unused", model="gene_set",
                             gene_set={"gene_features": ["degree", "go"]}, **control)  # fmt: skip
        module = CellModule(config, [0], [0.0], [1.0], cell.genes, ["e"])
        return module.model.feature_matrix

    plain, rewired, empty = built(), built(rewired_graph=True), built(edgeless_graph=True)
    # degree columns first: physical, regulator, target, GPR, then one per STRING mode
    networks = [0, 1, 2, *range(4, 4 + len(cell.string))]
    assert torch.equal(plain[:, 0], rewired[:, 0])  # each gene's physical degree, kept
    assert plain[:, networks].sum() > 0 and empty[:, networks].sum() == 0
    assert torch.equal(plain[:, 3], empty[:, 3])  # GPR kept
    go = 4 + len(cell.string)
    assert torch.equal(plain[:, go:], empty[:, go:])  # GO unchanged
    with pytest.raises(ValueError, match="choose one"):
        TrainConfig(dataset=sample_dataset, output="unused", rewired_graph=True,
                    edgeless_graph=True)  # fmt: skip
