"""Per-gene input features from the cell graph, for models and nulls that must say something
about a gene they never saw in training (held-out genes).

* ``go``: multi-hot over the GO terms DCell keeps (``Ontology.from_cell``: IGI and HGI
  annotations left out, as they come from genetic-interaction screens, and those that rest only
  on a screen's paper; the true-path rule,
  terms of < 6 genes dropped, redundant terms merged; the added root is not a column). A gene
  with no kept annotation has an all-zero row.
* ``degree``: log(1 + degree) of the gene in each gene network of the graph: physical,
  regulatory (as regulator and as target), GPR (reactions whose rule names it), and each STRING
  mode the graph carries.
* ``reactions``: multi-hot over the reactions whose GPR rule names the gene (what it catalyses).
* ``regulators``: multi-hot over the graph's regulators (YEASTRACT): which of them regulate the
  gene.

``gene_features(cell, kinds)`` returns the (num_genes, F) float32 matrix, the kinds' columns
side by side in the order asked.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from torchcell.cell.graph import CellGraph
from torchcell.cell.ontology import Ontology

FEATURE_KINDS = ("go", "degree", "reactions", "regulators")
NULL_FEATURES = ("go", "degree")
"""What the gene-feature ridge null reads (``torchcell.train.baselines.FeatureRidge``)."""
GO_EXCLUDED = ("IGI", "HGI")


def go_membership(cell: CellGraph) -> torch.Tensor:
    ontology = Ontology.from_cell(cell, exclude_evidence=GO_EXCLUDED)
    columns = ontology.gene_sets[:-1]  # the last set is the added root's
    x = torch.zeros(len(cell.genes), len(columns))
    for column, genes in enumerate(columns):
        x[list(genes), column] = 1.0
    return x


def network_degrees(cell: CellGraph) -> torch.Tensor:
    n = len(cell.genes)

    def count(index: torch.Tensor) -> torch.Tensor:
        return torch.bincount(index, minlength=n).float()

    columns = [
        count(cell.physical.flatten()),
        count(cell.regulatory[0]),
        count(cell.regulatory[1]),
        count(cell.gpr_edges[0]),
    ]
    columns += [count(cell.string[mode].flatten()) for mode in sorted(cell.string)]
    return torch.log1p(torch.stack(columns, dim=1))


def catalysed_reactions(cell: CellGraph) -> torch.Tensor:
    x = torch.zeros(len(cell.genes), len(cell.reactions))
    x[cell.gpr_edges[0], cell.gpr_edges[1]] = 1.0
    return x


def regulators(cell: CellGraph) -> torch.Tensor:
    regulator, target = cell.regulatory
    columns = torch.unique(regulator)
    position = torch.full((len(cell.genes),), -1, dtype=torch.long)
    position[columns] = torch.arange(columns.numel())
    x = torch.zeros(len(cell.genes), columns.numel())
    x[target, position[regulator]] = 1.0
    return x


def gene_features(cell: CellGraph, kinds: Sequence[str]) -> torch.Tensor:
    unknown = sorted(set(kinds) - set(FEATURE_KINDS))
    if unknown or not kinds:
        raise ValueError(f"gene features {unknown or '[]'}: choose from {list(FEATURE_KINDS)}")
    build = {
        "go": go_membership, "degree": network_degrees, "reactions": catalysed_reactions,
        "regulators": regulators,
    }  # fmt: skip
    return torch.cat([build[kind](cell) for kind in kinds], dim=1)
