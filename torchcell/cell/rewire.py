"""The graph controls: the cell graph with its gene–gene networks shuffled at random, every
gene keeping its degree in each network (``rewired``), or removed (``edgeless``).

A model trained on the rewired graph keeps everything but which genes are linked: the same
genes, degrees (so degree features are unchanged), GPR rules, reactions and GO. If it does as
well as on the real graph, the model's gain does not come from the biology the links carry.
Used by ``TrainConfig.rewired_graph`` (seeded by the split seed). Without the networks at all
(``TrainConfig.edgeless_graph``), a model keeps GPR rules, reactions, metabolites and GO; its
degree features, if it reads them, are zero.
"""

from __future__ import annotations

import dataclasses
import random

import torch

from torchcell.cell.graph import CellGraph

SWAPS_PER_EDGE = 10


def rewired(cell: CellGraph, seed: int) -> CellGraph:
    """Physical and STRING networks (undirected) and regulation (directed: each gene keeps its
    in- and out-degree) by double-edge swaps, ``SWAPS_PER_EDGE`` attempts per edge."""
    rng = random.Random(seed)
    return dataclasses.replace(
        cell,
        physical=swapped(cell.physical, rng, directed=False),
        regulatory=swapped(cell.regulatory, rng, directed=True),
        string={mode: swapped(edges, rng, directed=False) for mode, edges in cell.string.items()},
    )


def edgeless(cell: CellGraph) -> CellGraph:
    """The cell graph without its physical, regulatory and STRING edges."""
    none = torch.empty(2, 0, dtype=torch.long)
    return dataclasses.replace(
        cell, physical=none, regulatory=none.clone(), string={m: none.clone() for m in cell.string}
    )


def swapped(edges: torch.Tensor, rng: random.Random, directed: bool) -> torch.Tensor:
    """(2, E) edges after degree-preserving double-edge swaps: (a, b), (c, d) become (a, d),
    (c, b) unless that makes a self-loop or a duplicate. Undirected edges keep their stored
    orientation convention (lower index first when they came so)."""
    pairs = [tuple(p) for p in edges.t().tolist()]
    if len(pairs) < 2:
        return edges.clone()
    lower_first = not directed and all(a <= b for a, b in pairs)

    def key(a: int, b: int) -> tuple[int, int]:
        return (a, b) if directed or a <= b else (b, a)

    present = {key(a, b) for a, b in pairs}
    for _ in range(SWAPS_PER_EDGE * len(pairs)):
        i, j = rng.randrange(len(pairs)), rng.randrange(len(pairs))
        if i == j:
            continue
        (a, b), (c, d) = pairs[i], pairs[j]
        if not directed and rng.random() < 0.5:
            c, d = d, c
        if a == d or c == b:
            continue
        first, second = key(a, d), key(c, b)
        if first == second or first in present or second in present:
            continue
        present.difference_update({key(*pairs[i]), key(*pairs[j])})
        present.update({first, second})
        pairs[i], pairs[j] = (a, d), (c, b)
    if lower_first:
        pairs = [key(a, b) for a, b in pairs]
    return torch.tensor(pairs, dtype=edges.dtype).t().contiguous()
