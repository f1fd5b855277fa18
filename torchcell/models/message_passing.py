"""Message passing on the wildtype cell graph, written as index-add over edge lists.

* ``propagate``: weighted sum of source rows into destination rows.
* ``StoichiometricHypergraphConv``: the metabolic network as a hypergraph (a reaction is a
  hyperedge over its metabolites). Messages carry the signed stoichiometric coefficient, so a
  substrate and a product of the same reaction pull its embedding in opposite directions, and
  are normalized on both sides: by the hyperedge's Σ|coefficient| on the way in and by the
  metabolite's Σ|coefficient| on the way out. Options: a gate from the reaction's own embedding,
  and attention over a reaction's metabolites in place of the uniform normalization.
* ``HeteroCellLayer``: one round over every relation of the cell graph: (gene, physical, gene),
  (gene, regulatory, gene) both ways, the GPR bipartite (gene, gpr, reaction) both ways, and the
  stoichiometric hypergraph, with residual connections and layer norm per node type.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.utils import softmax


def propagate(
    x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, weight: torch.Tensor, size: int
) -> torch.Tensor:
    """out[d] = Σ over edges (s → d) of weight · x[s]."""
    out = x.new_zeros(size, x.shape[1])
    return out.index_add_(0, dst, x[src] * weight[:, None])


def inverse_degree(index: torch.Tensor, size: int, weight: torch.Tensor | None = None):
    """1 / (Σ weight) per node, gathered back onto each edge (mean aggregation weights)."""
    weight = torch.ones_like(index, dtype=torch.float) if weight is None else weight
    degree = torch.zeros(size, dtype=torch.float).index_add_(0, index, weight)
    return 1.0 / degree.clamp_min(1e-12)


class StoichiometricHypergraphConv(nn.Module):
    def __init__(self, dim: int, gating: bool = False, attention: bool = False):
        super().__init__()
        self.node = nn.Linear(dim, dim, bias=False)
        self.edge = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, dim) if gating else None
        self.score_node = nn.Linear(dim, 1, bias=False) if attention else None
        self.score_edge = nn.Linear(dim, 1) if attention else None

    def forward(
        self,
        metabolite: torch.Tensor,
        reaction: torch.Tensor,
        incidence: torch.Tensor,
        coefficient: torch.Tensor,
        edge_norm: torch.Tensor,
        node_norm: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (message to each metabolite, hyperedge state of each reaction).

        ``incidence``: (2, S) metabolite and reaction of each stoichiometry entry;
        ``edge_norm`` / ``node_norm``: 1/Σ|coefficient| of each entry's reaction / metabolite.
        """
        met, rxn = incidence
        n_met, n_rxn = metabolite.shape[0], reaction.shape[0]
        if self.score_node is not None:
            score = self.score_node(metabolite)[met] + self.score_edge(reaction)[rxn]
            weight = softmax(nn.functional.leaky_relu(score.squeeze(-1), 0.2), rxn, num_nodes=n_rxn)
        else:
            weight = edge_norm
        hyperedge = propagate(self.node(metabolite), met, rxn, coefficient * weight, n_rxn)
        hyperedge = hyperedge + self.edge(reaction)
        if self.gate is not None:
            hyperedge = hyperedge * torch.sigmoid(self.gate(reaction))
        to_metabolite = propagate(hyperedge, rxn, met, coefficient * node_norm, n_met)
        return to_metabolite, hyperedge


class HeteroCellLayer(nn.Module):
    GENE_RELATIONS = ("physical", "regulates", "regulated_by", "gpr_to_gene")

    def __init__(
        self, dim: int, dropout: float = 0.0, gating: bool = False, attention: bool = False
    ):
        super().__init__()
        self.gene = nn.ModuleDict(
            {name: nn.Linear(dim, dim, bias=False) for name in ("self", *self.GENE_RELATIONS)}
        )
        self.reaction = nn.ModuleDict(
            {name: nn.Linear(dim, dim, bias=False) for name in ("self", "gpr_to_reaction")}
        )
        self.metabolite = nn.Linear(dim, dim, bias=False)
        self.hypergraph = StoichiometricHypergraphConv(dim, gating, attention)
        self.norm = nn.ModuleDict(
            {t: nn.LayerNorm(dim) for t in ("gene", "reaction", "metabolite")}
        )
        self.dropout = nn.Dropout(dropout)

    def _update(self, node_type: str, h: torch.Tensor, message: torch.Tensor) -> torch.Tensor:
        return self.norm[node_type](h + self.dropout(nn.functional.gelu(message)))

    def forward(self, h: dict[str, torch.Tensor], graph) -> dict[str, torch.Tensor]:
        """``h``: embeddings per node type; ``graph``: the edge buffers of ``HeteroCell``."""
        gene, reaction, metabolite = h["gene"], h["reaction"], h["metabolite"]
        n_gene, n_rxn = gene.shape[0], reaction.shape[0]
        to_gene = self.gene["self"](gene)
        for name in self.GENE_RELATIONS:
            src, dst, weight = graph.edges(name)
            source = reaction if name == "gpr_to_gene" else gene
            to_gene = to_gene + self.gene[name](propagate(source, src, dst, weight, n_gene))
        src, dst, weight = graph.edges("gpr_to_reaction")
        to_metabolite, hyperedge = self.hypergraph(
            metabolite, reaction, graph.stoich_index, graph.stoich_coefficient,
            graph.stoich_edge_norm, graph.stoich_node_norm,
        )  # fmt: skip
        to_reaction = (
            self.reaction["self"](reaction)
            + self.reaction["gpr_to_reaction"](propagate(gene, src, dst, weight, n_rxn))
            + hyperedge
        )
        return {
            "gene": self._update("gene", gene, to_gene),
            "reaction": self._update("reaction", reaction, to_reaction),
            "metabolite": self._update(
                "metabolite", metabolite, self.metabolite(metabolite) + to_metabolite
            ),
        }
