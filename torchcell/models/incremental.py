"""HeteroCell's perturbed cells as sparse changes of the wildtype's node states.

A deletion changes the state of a node only within ``layers`` hops of the deleted genes and
their dead reactions. So the wildtype is encoded once, (N, D) per node type, and each perturbed
cell is carried as the rows it changes: ``Rows`` of (sample, node) keys with their states.
Per layer, with Δ = perturbed − wildtype on the changed input rows:

* the linear maps act on Δ of the changed rows only (W · Δ, no bias), and the propagation sends
  W · Δ along the edges out of them (``_Messages.spread``, summed per destination as one
  sparse product): A · W · (x + Δ) = A · W · x + A · (W · Δ);
* the nonlinear parts (GELU, layer norm, the hyperedge gate, the removal masks, the shared
  dropout masks) are evaluated on the rows that any part changed, from wildtype + Δ.

A removed node is a changed row whose state is zero at the input and after every layer, exactly
as in the full recomputation (``HeteroCellLayer`` with ``keep`` masks), so both give the same
states. The last layer's metabolite states are not computed (nothing reads them). The cost per
changed row is a few D-wide operations and, for the rows changed at the layer's input, one
D × D product per relation, where the full recomputation pays every relation's D × D product
for every node of every cell.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from torchcell.models.message_passing import EdgeSets, HeteroCellLayer, sparse_product
from torchcell.models.set_pooling import Changed as Rows


class _Union(NamedTuple):
    """The union of some keys (sorted) and where each given key set lands in it."""

    keys: torch.Tensor
    at: list[torch.Tensor]


def _union(*key_sets: torch.Tensor) -> _Union:
    keys, inverse = torch.unique(torch.cat(key_sets), return_inverse=True)
    return _Union(keys, list(inverse.split([k.numel() for k in key_sets])))


class _Messages:
    """Changed messages onto one node type: blocks of value rows (C, D) and, per message, the
    destination key, the value row and the edge weight. ``onto`` sums them as one sparse
    (destinations × C) product, so no per-edge copy of the values is ever made."""

    def __init__(self):
        self.keys, self.rows, self.weights, self.values, self.count = [], [], [], [], 0

    def direct(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        """Each value row added to its own key."""
        rows = torch.arange(keys.numel(), device=keys.device)
        self._add(keys, rows, torch.ones(keys.numel(), device=keys.device), values)

    def spread(self, graph: EdgeSets, name: str, keys: torch.Tensor, values: torch.Tensor):
        """The value rows of changed sources ``keys``, sent along edge set ``name``."""
        rowptr, dst, weight = graph.by_source(name)
        n_src, n_dst = graph.sizes[name]
        sample, node = keys // n_src, keys % n_src
        start, count = rowptr[node], rowptr[node + 1] - rowptr[node]
        row = torch.repeat_interleave(torch.arange(keys.numel(), device=keys.device), count)
        first = torch.cumsum(count, 0) - count
        edge = start[row] + torch.arange(row.numel(), device=keys.device) - first[row]
        self._add(sample[row] * n_dst + dst[edge], row, weight[edge], values)

    def _add(self, keys, rows, weights, values):
        self.keys.append(keys)
        self.rows.append(rows + self.count)
        self.weights.append(weights)
        self.values.append(values)
        self.count += values.shape[0]

    def destinations(self) -> torch.Tensor:
        return torch.cat(self.keys)

    def onto(self, at: torch.Tensor, size: int, dim: int) -> torch.Tensor:
        """(size, D): the messages summed per destination; ``at``: each message's row (the
        position of ``destinations()`` in the union of keys)."""
        weight = torch.cat(self.weights)
        if weight.numel() == 0:
            return weight.new_zeros(size, dim)
        matrix = torch.sparse_coo_tensor(
            torch.stack([at, torch.cat(self.rows)]), weight, (size, self.count),
            check_invariants=False,
        )  # fmt: skip
        return sparse_product(matrix, torch.cat(self.values).float())


def _project(rows: Rows, *layers: nn.Linear) -> list[torch.Tensor]:
    """W · Δ of the changed rows for each linear map (biases cancel in a difference)."""
    if not layers:
        return []
    weight = torch.cat([layer.weight for layer in layers], dim=0)
    return list(nn.functional.linear(rows.values, weight).split(layers[0].out_features, dim=1))


def _layer(
    layer: HeteroCellLayer,
    graph: EdgeSets,
    wildtype: dict[str, torch.Tensor],
    delta: dict[str, Rows],
    removed: dict[str, torch.Tensor],
    last: bool,
) -> tuple[dict[str, torch.Tensor], dict[str, Rows]]:
    """One layer on the wildtype (all rows) and on the perturbed cells' changed rows: the
    wildtype's output states and, per node type, the changed rows' output states."""
    pre = layer.pre_activations(wildtype, graph)
    masks = layer.dropout_masks(wildtype)
    out = {t: layer.update(t, wildtype[t], pre[t], masks[t]) for t in layer.NODE_TYPES}
    n = {t: x.shape[0] for t, x in wildtype.items()}
    dim = wildtype["gene"].shape[-1]
    gene, reaction, metabolite = delta["gene"], delta["reaction"], delta["metabolite"]

    same_type = [r for r in layer.relations if r != "gpr_to_gene"]
    to_gene = _Messages()
    self_gene, *by_relation = _project(gene, *(layer.gene[r] for r in ("self", *same_type)))
    to_gene.direct(gene.keys, self_gene)
    for relation, values in zip(same_type, by_relation, strict=True):
        to_gene.spread(graph, relation, gene.keys, values)
    (from_reactions,) = _project(reaction, layer.gene["gpr_to_gene"])
    to_gene.spread(graph, "gpr_to_gene", reaction.keys, from_reactions)

    conv = layer.hypergraph
    to_hyperedge = _Messages()
    (node_message,) = _project(metabolite, conv.node)
    to_hyperedge.spread(graph, "stoich_in", metabolite.keys, node_message)
    edge_self, *gate = _project(reaction, conv.edge, *([conv.gate] if conv.gate else []))
    to_hyperedge.direct(reaction.keys, edge_self)
    union = _union(to_hyperedge.destinations(), reaction.keys, removed["reaction"])
    node = union.keys % n["reaction"]
    hyperedge = pre["hyperedge_input"][node] + to_hyperedge.onto(union.at[0], node.numel(), dim)
    if gate:
        logit = pre["gate"][node].index_add_(0, union.at[1], gate[0])
        hyperedge = hyperedge * torch.sigmoid(logit)
    hyperedge = hyperedge.index_fill_(0, union.at[2], 0.0)
    hyperedge_delta = hyperedge - pre["hyperedge"][node]

    to_reaction = _Messages()
    (reaction_self,) = _project(reaction, layer.reaction["self"])
    to_reaction.direct(reaction.keys, reaction_self)
    to_reaction.direct(union.keys, hyperedge_delta)
    (from_genes,) = _project(gene, layer.reaction["gpr_to_reaction"])
    to_reaction.spread(graph, "gpr_to_reaction", gene.keys, from_genes)
    messages = {"gene": to_gene, "reaction": to_reaction}
    if not last:  # nothing reads the last layer's metabolites
        messages["metabolite"] = to_metabolite = _Messages()
        (metabolite_self,) = _project(metabolite, layer.metabolite)
        to_metabolite.direct(metabolite.keys, metabolite_self)
        to_metabolite.spread(graph, "stoich_out", union.keys, hyperedge_delta)

    changed = {}
    for t, message in messages.items():
        gone = removed.get(t, gene.keys[:0])
        union = _union(message.destinations(), delta[t].keys, gone)
        node = union.keys % n[t]
        h = wildtype[t][node].index_add_(0, union.at[1], delta[t].values)
        summed = message.onto(union.at[0], node.numel(), dim)
        state = layer.update(
            t, h, pre[t][node] + summed, None if masks[t] is None else masks[t][node]
        )
        changed[t] = Rows(union.keys, state.index_fill_(0, union.at[2], 0.0))
    return out, changed


def perturbed_states(
    layers: nn.ModuleList,
    graph: EdgeSets,
    inputs: dict[str, torch.Tensor],
    removed: dict[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[str, Rows]]:
    """Wildtype node states (N, D) and the perturbed cells' changed rows (keys sample · N +
    node), for the node types of ``removed`` ((B, N) bool per type: the deleted genes, the dead
    reactions)."""
    wildtype = dict(inputs)
    gone = {t: mask.flatten().nonzero().squeeze(1) for t, mask in removed.items()}
    empty = gone["gene"][:0]
    state = {t: Rows(gone.get(t, empty), x.new_zeros(gone.get(t, empty).numel(), x.shape[1]))
             for t, x in inputs.items()}  # fmt: skip
    for i, layer in enumerate(layers):
        delta = {
            t: Rows(rows.keys, rows.values - wildtype[t][rows.keys % wildtype[t].shape[0]])
            for t, rows in state.items()
        }
        wildtype, state = _layer(layer, graph, wildtype, delta, gone, i == len(layers) - 1)
    return wildtype, {t: state[t] for t in removed}
