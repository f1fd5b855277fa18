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
  Dropout draws one mask per node and feature, shared by the S cells (``shared_dropout_mask``), so
  in training the perturbed cells differ from the wildtype by their deletions, not by noise.
"""

from __future__ import annotations

import warnings

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


def shared_dropout_mask(rows: int, dim: int, p: float, training: bool, like: torch.Tensor):
    """One dropout mask (scaled by 1 / (1 − p)) per node and feature, for all cells of a batch;
    ``None`` when dropout is off.

    HeteroCell reads the difference of pooled wildtype and perturbed states; independent masks
    per cell would put dropout noise into every node's difference (at initialization ~30 × the
    deletions' signal on the real cell graph), a shared mask leaves the deletions' alone.
    """
    if not training or p == 0.0:
        return None
    keep = torch.empty(rows, dim, device=like.device, dtype=like.dtype).bernoulli_(1.0 - p)
    return keep / (1.0 - p)


def _csr(matrix: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():  # "CSR support is in beta": products only, no autograd
        warnings.simplefilter("ignore", UserWarning)
        return matrix.coalesce().to_sparse_csr()


class _SparseProduct(torch.autograd.Function):
    """A · x with the fixed sparse A and its transpose as CSR: the backward pass is Aᵀ · grad,
    where autograd on a sparse matrix would transpose and sort it on every call."""

    @staticmethod
    def forward(ctx, matrix, transpose, x):
        ctx.transpose = transpose
        return matrix @ x

    @staticmethod
    def backward(ctx, grad):
        return None, None, ctx.transpose @ grad


def sparse_product(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``matrix`` (sparse COO, duplicates summed, no gradient) · ``x`` (dense)."""
    matrix = matrix.coalesce()
    return _SparseProduct.apply(_csr(matrix), _csr(matrix.t()), x)


class EdgeSets(nn.Module):
    """Named weighted edge sets as buffers (they follow the model to a device).

    ``propagate(name, x)`` is a sparse (destination × source) matrix product, built once per
    device and cached in CSR with its transpose: its backward pass is another sparse product,
    far cheaper than the scatter that backs a gather-then-index-add.
    """

    def __init__(self):
        super().__init__()
        self.sizes: dict[str, tuple[int, int]] = {}
        self._matrices: dict[tuple[str, str], object] = {}

    def __getstate__(self):
        """Copies and pickles leave the cached products out (CSR tensors have no storage to
        copy); they are rebuilt at the first propagation."""
        return {**super().__getstate__(), "_matrices": {}}

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
            matrix = torch.sparse_coo_tensor(
                torch.stack([dst, src]), weight, (n_dst, n_src), check_invariants=False
            ).coalesce()
            self._matrices[key] = (_csr(matrix), _csr(matrix.t()))
        return _SparseProduct.apply(*self._matrices[key], x.to(weight.dtype)).to(x.dtype)

    def by_source(self, name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The edges sorted by source: (row pointer (N_src + 1,), destination, weight)."""
        src, dst, weight = self.edges(name)
        key = (f"{name} by source", str(weight.device))
        if key not in self._matrices:
            order = torch.argsort(src, stable=True)
            count = torch.bincount(src, minlength=self.sizes[name][0])
            rowptr = torch.cat([count.new_zeros(1), torch.cumsum(count, 0)])
            self._matrices[key] = (rowptr, dst[order], weight[order])
        return self._matrices[key]


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

    def hyperedge_input(
        self, metabolite: torch.Tensor, reaction: torch.Tensor, graph: EdgeSets
    ) -> torch.Tensor:
        """Each reaction's hyperedge before the gate: its metabolites' messages plus its own."""
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
        return hyperedge + self.edge(reaction)

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
        hyperedge = self.parts(metabolite, reaction, graph, reaction_keep)["hyperedge"]
        return graph.propagate("stoich_out", hyperedge), hyperedge

    def parts(
        self,
        metabolite: torch.Tensor,
        reaction: torch.Tensor,
        graph: EdgeSets,
        reaction_keep: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """``hyperedge_input`` (before the gate), ``gate`` logits (with gating) and
        ``hyperedge`` (gated, removed reactions zero)."""
        out = {"hyperedge_input": self.hyperedge_input(metabolite, reaction, graph)}
        hyperedge = out["hyperedge_input"]
        if self.gate is not None:
            out["gate"] = self.gate(reaction)
            hyperedge = hyperedge * torch.sigmoid(out["gate"])
        out["hyperedge"] = hyperedge * reaction_keep if reaction_keep is not None else hyperedge
        return out


class HeteroCellLayer(nn.Module):
    GENE_RELATIONS = ("physical", "regulates", "regulated_by", "gpr_to_gene")
    NODE_TYPES = ("gene", "reaction", "metabolite")

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
        self.norm = nn.ModuleDict({t: nn.LayerNorm(dim) for t in self.NODE_TYPES})
        self.dropout = dropout

    def dropout_masks(self, h: dict[str, torch.Tensor]) -> dict[str, torch.Tensor | None]:
        """The layer's shared dropout masks, (N, D) per node type (drawn in a fixed order)."""
        return {
            t: shared_dropout_mask(h[t].shape[0], h[t].shape[-1], self.dropout, self.training, h[t])
            for t in self.NODE_TYPES
        }

    def update(
        self, node_type: str, h: torch.Tensor, message: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """LN(h + dropout(gelu(message))) for (N, D), node-major (N, S, D) or selected rows
        (K, D) with their mask rows."""
        message = nn.functional.gelu(message)
        if mask is not None:
            message = message * (mask[:, None] if message.dim() == 3 else mask)
        return self.norm[node_type](h + message)

    def pre_activations(
        self,
        h: dict[str, torch.Tensor],
        graph: EdgeSets,
        keep: dict[str, torch.Tensor] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Each node type's message before the update, and the reactions' hyperedge parts
        (``hyperedge_input`` before the gate, ``gate`` logits, ``hyperedge`` after both)."""
        keep = keep or {}
        gene, reaction, metabolite = h["gene"], h["reaction"], h["metabolite"]
        # Σ_r W_r · (A_r x) as one matmul over the relations' messages side by side
        messages = [gene] + [
            graph.propagate(name, reaction if name == "gpr_to_gene" else gene)
            for name in self.relations
        ]
        weight = torch.cat([self.gene[name].weight for name in ("self", *self.relations)], 1)
        out = {
            "gene": nn.functional.linear(torch.cat(messages, dim=-1), weight),
            **self.hypergraph.parts(metabolite, reaction, graph, keep.get("reaction")),
        }
        out["reaction"] = (
            self.reaction["self"](reaction)
            + self.reaction["gpr_to_reaction"](graph.propagate("gpr_to_reaction", gene))
            + out["hyperedge"]
        )
        out["metabolite"] = self.metabolite(metabolite) + graph.propagate(
            "stoich_out", out["hyperedge"]
        )
        return out

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
        pre = self.pre_activations(h, graph, keep)
        masks = self.dropout_masks(h)
        out = {t: self.update(t, h[t], pre[t], masks[t]) for t in self.NODE_TYPES}
        return {name: out[name] * keep[name] if name in keep else out[name] for name in out}
