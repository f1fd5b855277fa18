"""Message passing on the cell graph, written as index-add over edge lists.

* ``propagate``: weighted sum of source rows into destination rows (index-add; for weights
  that depend on the embeddings, e.g. attention), and ``EdgeSets``: fixed weighted edge sets
  whose propagation is a cached sparse matrix product.
* ``StoichiometricHypergraphConv``: the metabolic network as a hypergraph (a reaction is a
  hyperedge over its metabolites). Messages carry the signed stoichiometric coefficient, so a
  substrate and a product of the same reaction pull its embedding in opposite directions, and
  are normalized on both sides: by the hyperedge's Σ|coefficient| on the way in and by the
  metabolite's Σ|coefficient| on the way out. Options: a gate from the reaction's own embedding,
  and attention over a reaction's metabolites in place of the uniform normalization.
* ``HeteroCellLayer``: one round over every relation of the cell graph: (gene, physical, gene),
  (gene, regulatory, gene) both ways, the GPR bipartite (gene, gpr, reaction) both ways, and the
  stoichiometric hypergraph, with residual connections and layer norm per node type. Node
  states are (N, D) for one cell or node-major (N, S, D) for S cells that share the
  wildtype's edges; per-cell node masks take deleted genes and dead reactions out of a cell.
  Dropout draws one mask per node and feature, shared by the S cells (``shared_dropout``), so
  in training the perturbed cells differ from the wildtype by their deletions, not by noise.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.utils import softmax


def propagate(
    x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, weight: torch.Tensor, size: int
) -> torch.Tensor:
    """out[d] = Σ over edges (s → d) of weight · x[s].

    ``x``: (N, F) or node-major (N, S, F) (S cells); ``weight``: (E,) or (E, S).
    """
    weight = weight.reshape(*weight.shape, *[1] * (x.dim() - weight.dim()))
    out = x.new_zeros(size, *x.shape[1:])
    return out.index_add_(0, dst, x[src] * weight)


def inverse_degree(index: torch.Tensor, size: int, weight: torch.Tensor | None = None):
    """1 / (Σ weight) per node, gathered back onto each edge (mean aggregation weights)."""
    weight = torch.ones_like(index, dtype=torch.float) if weight is None else weight
    degree = torch.zeros(size, dtype=torch.float, device=index.device).index_add_(0, index, weight)
    return 1.0 / degree.clamp_min(1e-12)


def shared_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Dropout of (N, D) or node-major (N, S, D) states with one mask for all S cells.

    HeteroCell reads the difference of pooled wildtype and perturbed states; independent masks
    per cell would put dropout noise into every node's difference (at initialization ~30 × the
    deletions' signal on the real cell graph), a shared mask leaves the deletions' alone.
    """
    if not training or p == 0.0:
        return x
    shape = (x.shape[0], 1, x.shape[-1]) if x.dim() == 3 else x.shape
    keep = torch.empty(shape, device=x.device, dtype=x.dtype).bernoulli_(1.0 - p)
    return x * keep / (1.0 - p)


class EdgeSets(nn.Module):
    """Named weighted edge sets as buffers (they follow the model to a device).

    ``propagate(name, x)`` is a sparse (destination × source) matrix product, built once per
    device and cached: its backward pass is another sparse product, far cheaper than the
    scatter that backs a gather-then-index-add.
    """

    def __init__(self):
        super().__init__()
        self.sizes: dict[str, tuple[int, int]] = {}
        self._matrices: dict[tuple[str, str], torch.Tensor] = {}

    def add(self, name: str, index: torch.Tensor, weight: torch.Tensor, n_src: int, n_dst: int):
        """``index``: (2, E) source row 0, destination row 1."""
        self.register_buffer(f"{name}_index", index.clone())
        self.register_buffer(f"{name}_weight", weight.float())
        self.sizes[name] = (n_src, n_dst)

    def edges(self, name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        index = getattr(self, f"{name}_index")
        return index[0], index[1], getattr(self, f"{name}_weight")

    def propagate(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """``x``: (N_src, F), or node-major (N_src, S, F) propagated as one (N_src, S·F)
        product (a view, no copy: why node states of S cells are kept node-major)."""
        if x.dim() == 3:
            n, samples, features = x.shape
            flat = self.propagate(name, x.reshape(n, samples * features))
            return flat.view(-1, samples, features)
        src, dst, weight = self.edges(name)
        key = (name, str(weight.device))
        if key not in self._matrices:
            n_src, n_dst = self.sizes[name]
            self._matrices[key] = torch.sparse_coo_tensor(
                torch.stack([dst, src]), weight, (n_dst, n_src), check_invariants=False
            ).coalesce()
        return torch.sparse.mm(self._matrices[key], x.to(weight.dtype)).to(x.dtype)


class StoichiometricHypergraphConv(nn.Module):
    """Needs edge sets ``stoich_in`` (metabolite → reaction, weight coefficient / Σ|c| of the
    reaction) and ``stoich_out`` (reaction → metabolite, coefficient / Σ|c| of the metabolite).
    """

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
        graph: EdgeSets,
        reaction_keep: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (message to each metabolite, hyperedge state of each reaction).

        Node states are (N, D) or node-major (N, S, D); ``reaction_keep`` (R, S, 1) zeroes
        removed reactions' hyperedges before they reach the metabolites.
        """
        n_reactions = reaction.shape[0]
        if self.score_node is not None:
            met, rxn, weight = graph.edges("stoich_in")
            score = self.score_node(metabolite)[met] + self.score_edge(reaction)[rxn]
            alpha = softmax(
                nn.functional.leaky_relu(score.squeeze(-1), 0.2), rxn, num_nodes=n_reactions
            )  # (E,) or (E, S)
            sign = torch.sign(weight).reshape(-1, *[1] * (alpha.dim() - 1))
            hyperedge = propagate(self.node(metabolite), met, rxn, sign * alpha, n_reactions)
        else:
            hyperedge = graph.propagate("stoich_in", self.node(metabolite))
        hyperedge = hyperedge + self.edge(reaction)
        if self.gate is not None:
            hyperedge = hyperedge * torch.sigmoid(self.gate(reaction))
        if reaction_keep is not None:
            hyperedge = hyperedge * reaction_keep
        return graph.propagate("stoich_out", hyperedge), hyperedge


class HeteroCellLayer(nn.Module):
    GENE_RELATIONS = ("physical", "regulates", "regulated_by", "gpr_to_gene")

    def __init__(
        self,
        dim: int,
        dropout: float = 0.0,
        gating: bool = False,
        attention: bool = False,
        extra_gene_relations: tuple[str, ...] = (),
    ):
        """``extra_gene_relations``: further gene → gene edge sets of the graph (STRING modes)."""
        super().__init__()
        self.relations = (*self.GENE_RELATIONS, *extra_gene_relations)
        self.gene = nn.ModuleDict(
            {name: nn.Linear(dim, dim, bias=False) for name in ("self", *self.relations)}
        )
        self.reaction = nn.ModuleDict(
            {name: nn.Linear(dim, dim, bias=False) for name in ("self", "gpr_to_reaction")}
        )
        self.metabolite = nn.Linear(dim, dim, bias=False)
        self.hypergraph = StoichiometricHypergraphConv(dim, gating, attention)
        self.norm = nn.ModuleDict(
            {t: nn.LayerNorm(dim) for t in ("gene", "reaction", "metabolite")}
        )
        self.dropout = dropout

    def _update(self, node_type: str, h: torch.Tensor, message: torch.Tensor) -> torch.Tensor:
        message = shared_dropout(nn.functional.gelu(message), self.dropout, self.training)
        return self.norm[node_type](h + message)

    def forward(
        self,
        h: dict[str, torch.Tensor],
        graph: EdgeSets,
        keep: dict[str, torch.Tensor] | None = None,
    ) -> dict[str, torch.Tensor]:
        """``h``: embeddings per node type, (N, D) or node-major (N, S, D) for S cells;
        ``graph``: the edge sets of ``HeteroCell``; ``keep``: per node type an (N, S, 1) 0/1
        mask of the nodes present in each cell (absent nodes leave the layer as zeros, so
        they send nothing)."""
        keep = keep or {}
        gene, reaction, metabolite = h["gene"], h["reaction"], h["metabolite"]
        # Σ_r W_r · (A_r x) as one matmul over the relations' messages side by side
        messages = [gene] + [
            graph.propagate(name, reaction if name == "gpr_to_gene" else gene)
            for name in self.relations
        ]
        weight = torch.cat([self.gene[name].weight for name in ("self", *self.relations)], 1)
        to_gene = nn.functional.linear(torch.cat(messages, dim=-1), weight)
        to_metabolite, hyperedge = self.hypergraph(
            metabolite, reaction, graph, keep.get("reaction")
        )
        to_reaction = (
            self.reaction["self"](reaction)
            + self.reaction["gpr_to_reaction"](graph.propagate("gpr_to_reaction", gene))
            + hyperedge
        )
        out = {
            "gene": self._update("gene", gene, to_gene),
            "reaction": self._update("reaction", reaction, to_reaction),
            "metabolite": self._update(
                "metabolite", metabolite, self.metabolite(metabolite) + to_metabolite
            ),
        }
        return {name: out[name] * keep[name] if name in keep else out[name] for name in out}
