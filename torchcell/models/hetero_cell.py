"""HeteroCell: a heterogeneous GNN over the whole cell, perturbed cell against wildtype.

1. Learnable embeddings for genes, reactions and metabolites (optionally plus a linear
   projection of gene input features, ``torchcell.cell.gene_features``: without them a
   held-out gene's own embedding is untrained) go through ``layers`` rounds of ``HeteroCellLayer``.
2. ``encoder="perturbed"`` (default, the design's model): message passing runs on the wildtype
   and on every sample's perturbed cell at once, node states (N, B + 1, D) with cell 0 the
   wildtype (node-major: propagation is one sparse product, no copies). A perturbed cell lacks its deleted genes and the reactions whose GPR rule they
   make false (``CellGraph.reaction_removed``): their states are zero after the input and
   after every layer, so they send no messages, and a dead reaction's hyperedge reaches no
   metabolite. Edge normalizations stay the wildtype's. Deleting a gene therefore changes its
   neighbours' states, and through them the cell's. In training all cells share one dropout
   mask (``shared_dropout``): a node the deletion does not reach keeps the wildtype's state.
   ``encoder="wildtype"`` (cheaper variant): message passing once on the wildtype; the
   perturbation only removes the deleted genes and dead reactions from the pooling, so no other
   gene's state changes and the pooled difference is nearly additive in the deletions.
3. A set pooling over the whole cell (``CellSetPool``, removed members masked, float32) of the
   wildtype minus that of the perturbed cell: z_p = z_wildtype − z_perturbed, for genes and for
   reactions.
4. The wildtype embeddings of the perturbed genes (plus an embedding of the allele kind) are
   pooled by PyG's ``SetTransformerAggregation``.
5. A head maps [Δ gene pool, Δ reaction pool, perturbed-set pool, environment embedding]
   (media and temperature of the experiment) to the labels.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import nn
from torch_geometric.nn.aggr import SetTransformerAggregation

from torchcell.cell.graph import CellGraph
from torchcell.errors import TorchCellError
from torchcell.models.base import ModelOutput, perturbed_sets, removed_genes
from torchcell.models.gene_set import mlp
from torchcell.models.incremental import perturbed_states
from torchcell.models.message_passing import EdgeSets, HeteroCellLayer, inverse_degree
from torchcell.models.registry import GeneFeatureSection, ModelSpec, register
from torchcell.models.set_pooling import CellSetPool
from torchcell.schema.records import PERTURBATION_KINDS


class CellGraphBuffers(EdgeSets):
    """The wildtype's edges with their normalization weights (see ``HeteroCellLayer``)."""

    def __init__(self, cell: CellGraph, string_modes: tuple[str, ...] = ()):
        super().__init__()
        n_gene, n_rxn, n_met = len(cell.genes), len(cell.reactions), len(cell.metabolites)
        undirected = [("physical", cell.physical)]
        for mode in string_modes:
            if mode not in cell.string:
                raise TorchCellError(
                    f"hetero_cell.string_modes names {mode!r}, but the dataset's cell graph has "
                    f"STRING modes {sorted(cell.string) or 'none'} (build the graph with STRING)"
                )
            undirected.append((f"string_{mode}", cell.string[mode]))
        for name, edges in undirected:
            both = torch.cat([edges, edges.flip(0)], dim=1)
            degree = torch.bincount(both[1], minlength=n_gene).float().clamp_min(1)
            norm = degree[both[0]].rsqrt() * degree[both[1]].rsqrt()
            self.add(name, both, norm, n_gene, n_gene)
        for name, index in (
            ("regulates", cell.regulatory),
            ("regulated_by", cell.regulatory.flip(0)),
        ):
            self.add(name, index, inverse_degree(index[1], n_gene)[index[1]], n_gene, n_gene)
        gpr = cell.gpr_edges
        self.add("gpr_to_reaction", gpr, inverse_degree(gpr[1], n_rxn)[gpr[1]], n_gene, n_rxn)
        back = gpr.flip(0)
        self.add("gpr_to_gene", back, inverse_degree(back[1], n_gene)[back[1]], n_rxn, n_gene)
        met, rxn = cell.stoich_index
        coefficient = cell.stoich_coefficient.float()
        magnitude = coefficient.abs()
        edge_norm = inverse_degree(rxn, n_rxn, magnitude)[rxn]
        node_norm = inverse_degree(met, n_met, magnitude)[met]
        self.add("stoich_in", cell.stoich_index, coefficient * edge_norm, n_met, n_rxn)
        self.add("stoich_out", cell.stoich_index.flip(0), coefficient * node_norm, n_rxn, n_met)


class HeteroCell(nn.Module):
    def __init__(
        self,
        cell: CellGraph,
        num_labels: int,
        hidden: int = 64,
        layers: int = 2,
        heads: int = 4,
        dropout: float = 0.0,
        pooling: Literal["pma", "isab"] = "pma",
        gating: bool = True,
        attention: bool = False,
        gene_features: torch.Tensor | None = None,
        num_environments: int = 1,
        string_modes: tuple[str, ...] = (),
        encoder: Literal["perturbed", "wildtype"] = "perturbed",
        incremental: bool = True,
    ):
        """``incremental``: the perturbed cells as changed rows of the wildtype
        (``torchcell.models.incremental``, the same states); False recomputes every cell in
        full (with ``attention`` always: its weights depend on every state)."""
        super().__init__()
        if encoder not in ("perturbed", "wildtype"):
            raise ValueError(f"unknown HeteroCell encoder {encoder!r}")
        self.cell, self.encoder = cell, encoder
        self.incremental = incremental and not attention
        self.graph = CellGraphBuffers(cell, tuple(string_modes))
        extra = tuple(f"string_{mode}" for mode in string_modes)
        self.embedding = nn.ModuleDict(
            {
                "gene": nn.Embedding(len(cell.genes), hidden),
                "reaction": nn.Embedding(len(cell.reactions), hidden),
                "metabolite": nn.Embedding(len(cell.metabolites), hidden),
            }
        )
        if gene_features is not None:
            # rebuilt from the cell graph with the model, so not in the checkpoint (GO: 7k × 2k)
            self.register_buffer("gene_features", gene_features.float(), persistent=False)
            self.feature_projection = nn.Linear(gene_features.shape[1], hidden)
        else:
            self.gene_features = None
        self.layers = nn.ModuleList(
            [HeteroCellLayer(hidden, dropout, gating, attention, extra) for _ in range(layers)]
        )
        self.gene_pool = CellSetPool(hidden, heads, pooling)
        self.reaction_pool = CellSetPool(hidden, heads, pooling)
        self.kind = nn.Embedding(len(PERTURBATION_KINDS), hidden)
        self.perturbed_pool = SetTransformerAggregation(hidden, heads=heads, layer_norm=True)
        self.environment = nn.Embedding(num_environments, hidden)
        self.head = mlp([4 * hidden, hidden, hidden, num_labels], dropout)

    def _inputs(self) -> dict[str, torch.Tensor]:
        h = {name: emb.weight for name, emb in self.embedding.items()}
        if self.gene_features is not None:
            h["gene"] = h["gene"] + self.feature_projection(self.gene_features)
        return h

    def layer_states(self) -> list[dict[str, torch.Tensor]]:
        """The wildtype's node embeddings after the input and after each layer (diagnostics)."""
        states = [self._inputs()]
        for layer in self.layers:
            states.append(layer(states[-1], self.graph))
        return states

    def encode(self, keep: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """Node embeddings after message passing: (N, D) of the wildtype, or with ``keep``
        (per node type an (N, S) 0/1 mask of the nodes present) node-major (N, S, D) of S
        cells."""
        h = self._inputs()
        if keep is not None:
            keep = {name: mask[..., None] for name, mask in keep.items()}
            samples = next(iter(keep.values())).shape[1]
            h = {name: x[:, None].expand(-1, samples, -1) for name, x in h.items()}
            h = {name: x * keep[name] if name in keep else x for name, x in h.items()}
        for layer in self.layers:
            h = layer(h, self.graph, keep)
        return h

    def forward(self, batch) -> ModelOutput:
        removed = removed_genes(batch, len(self.cell.genes))
        lost_reactions = self.cell.reaction_removed(removed)
        changed = {"gene": None, "reaction": None}
        if self.encoder == "perturbed" and self.incremental:
            wildtype, changed = perturbed_states(
                self.layers, self.graph, self._inputs(),
                {"gene": removed, "reaction": lost_reactions},
            )  # fmt: skip
            perturbed = wildtype  # the shared members; each sample's own rows: changed
        elif self.encoder == "perturbed":
            keep = {  # cell 0: the wildtype, nothing removed; node-major (N, B + 1)
                name: torch.cat([torch.zeros_like(gone[:1]), gone]).logical_not().T.float()
                for name, gone in (("gene", removed), ("reaction", lost_reactions))
            }
            states = self.encode(keep)
            wildtype = {name: x[:, 0] for name, x in states.items()}
            perturbed = {name: x[:, 1:].transpose(0, 1) for name, x in states.items()}
        else:
            wildtype = perturbed = self.encode()
        with torch.autocast(removed.device.type, enabled=False):  # Δ of two float32 poolings
            gene_delta = self.gene_pool(
                wildtype["gene"], torch.zeros_like(removed[:1])
            ) - self.gene_pool(perturbed["gene"], removed, changed["gene"])
            reaction_delta = self.reaction_pool(
                wildtype["reaction"], torch.zeros_like(lost_reactions[:1])
            ) - self.reaction_pool(perturbed["reaction"], lost_reactions, changed["reaction"])
        sample, _ = perturbed_sets(batch)
        gene = batch["gene"]
        members = wildtype["gene"][gene.perturbed] + self.kind(gene.perturbed_kind)
        pooled = self.perturbed_pool(members, sample, dim_size=removed.shape[0])
        latent = torch.cat(
            [gene_delta, reaction_delta, pooled, self.environment(batch.environment)], dim=1
        )
        return ModelOutput(self.head(latent), latent)


class HeteroCellConfig(GeneFeatureSection):
    encoder: Literal["perturbed", "wildtype"] = Field(
        "perturbed",
        description="perturbed: message passing on each sample's perturbed cell (the design); "
        "wildtype: once on the wildtype, deletions only leave the pooling (cheaper variant)",
    )
    layers: int = Field(2, ge=0, description="rounds of heterogeneous message passing")
    heads: int = Field(4, ge=1, description="attention heads of the set poolings")
    pooling: Literal["pma", "isab"] = Field(
        "pma", description="the whole-cell set pooling: PMA, or ISAB blocks before it"
    )
    gating: bool = Field(
        True, description="the metabolic hypergraph's hyperedges gated by the reaction's own state"
    )
    attention: bool = Field(
        False, description="attention over a reaction's metabolites instead of the uniform weights"
    )
    string_modes: list[str] = Field(
        default_factory=list,
        description="STRING action modes (binding, reaction, ...) as further gene edge types",
    )


def _build(config, cell: CellGraph, num_labels: int, num_environments: int, restored=None):
    c = config.hetero_cell
    return HeteroCell(
        cell, num_labels, config.hidden, c.layers, c.heads, config.dropout, c.pooling,
        c.gating, c.attention, num_environments=num_environments,
        string_modes=tuple(c.string_modes), encoder=c.encoder,
        gene_features=c.feature_matrix(cell),
    )  # fmt: skip


register(
    ModelSpec(
        "hetero_cell",
        HeteroCellConfig,
        _build,
        summary="heterogeneous GNN over genes, reactions and metabolites (the design's model)",
    )  # fmt: skip
)
