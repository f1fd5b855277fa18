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
