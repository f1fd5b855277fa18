"""Dango (after Zhang et al., 2020, and the authors' code): pre-trained network embeddings,
fine-tuned, + hypergraph self-attention.

1. Pre-training (``tc pretrain-dango``, ``torchcell.train.pretrain``) fits, per gene network
   of the cell graph (``gene_networks``: physical, regulatory, co-metabolic, STRING modes), a
   graph auto-encoder that reconstructs each gene's neighbours, and saves the embeddings
   (networks × genes × dim) with each network's decoder.
2. The embeddings are **fine-tuned** with the model (``fine_tune``), and a reconstruction term
   keeps them faithful to the networks: binary cross-entropy of the perturbed genes' adjacency
   rows through the pre-trained (and also trained) decoders, weighted by ``reconstruction``
   and added to the loss (``ModelOutput.extra_loss``).
3. The model combines a gene's network embeddings with attention over the networks (the
   meta-embedding), and for each perturbed set computes a static embedding per member
   (a feed-forward map of the member alone) and a dynamic one (self-attention over the other
   members; a single gene attends to itself). The **sum** over members of (dynamic − static)²
   feeds the head: the more the set changes its members, the stronger the interaction.
4. The regression loss is log-cosh (``DangoConfig.loss``).

Deviations, listed beside ``pipeline/train/dango.yaml`` and in ``docs/models/dango.md``:
STRING v11 action modes instead of the authors' v9.1 channels; a binary cross-entropy
pre-training loss instead of their weighted MSE; one self-attention layer instead of two; the
members' changes summed where the authors average them; a reconstruction weight of 1.0 where
the authors' code uses a constant 0.001; the fine-tuned tensor is the auto-encoder's output
embedding, not its graph-convolution layers; an allele-kind embedding is added to each member
and an environment embedding to the pooled set (one condition in the paper); labels are
standardized and fitness is predicted beside the interaction scores. Off by default, also not
in the paper: ``gene_features`` projected onto each member's embedding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from pydantic import Field
from torch import nn

from torchcell.cell.graph import CellGraph
from torchcell.errors import TorchCellError
from torchcell.models.base import ModelOutput, perturbed_sets
from torchcell.models.gene_set import mlp
from torchcell.models.registry import GeneFeatureSection, ModelSpec, default_loss, register
from torchcell.schema.records import PERTURBATION_KINDS

EMBEDDINGS_FORMAT = 2
"""2: with each network's decoder (``decoder_weight`` (K, N, dim), ``decoder_bias`` (K, N))."""


def gene_networks(cell: CellGraph) -> dict[str, torch.Tensor]:
    """Undirected gene–gene networks as (2, E) index tensors, both directions, no duplicates."""
    gpr = cell.gpr_edges
    co_metabolic = []
    for reaction in torch.unique(gpr[1]).tolist():
        genes = gpr[0, gpr[1] == reaction]
        co_metabolic.append(torch.cartesian_prod(genes, genes).t())
    networks = {
        "physical": cell.physical,
        "regulatory": cell.regulatory,
        "co_metabolic": torch.cat(co_metabolic, 1)
        if co_metabolic
        else torch.empty(2, 0, dtype=torch.long),
        **{f"string_{mode}": edges for mode, edges in cell.string.items()},
    }
    out = {}
    for name, edges in networks.items():
        edges = torch.cat([edges, edges.flip(0)], 1)
        edges = edges[:, edges[0] != edges[1]]
        if edges.numel():
            out[name] = torch.unique(edges, dim=1)
    return out


def load_embeddings(path: Path, cell: CellGraph) -> dict[str, torch.Tensor]:
    """``embeddings`` (networks, genes, dim) and the networks' decoders, as written by
    ``tc pretrain-dango`` for this cell graph."""
    path = Path(path)
    if not path.exists():
        raise TorchCellError(
            f"Dango needs pre-trained embeddings and {path} does not exist; "
            f"write them with: tc pretrain-dango DATASET --out {path}"
        )
    raw = torch.load(path, weights_only=True)
    if raw.get("format") != EMBEDDINGS_FORMAT:
        raise TorchCellError(
            f"{path}: embeddings format {raw.get('format')} is not {EMBEDDINGS_FORMAT}; "
            "pre-train again with tc pretrain-dango"
        )
    if raw["genes"] != cell.genes:
        raise TorchCellError(
            f"{path} was pre-trained on another gene list ({len(raw['genes'])} genes) than this "
            f"dataset's cell graph ({len(cell.genes)}); run tc pretrain-dango on this dataset"
        )
    if raw["networks"] != list(gene_networks(cell)):
        raise TorchCellError(
            f"{path} was pre-trained on networks {raw['networks']}, this cell graph has "
            f"{list(gene_networks(cell))}; run tc pretrain-dango on this dataset"
        )
    return {k: raw[k].float() for k in ("embeddings", "decoder_weight", "decoder_bias")}


class Dango(nn.Module):
    def __init__(
        self,
        cell: CellGraph,
        num_labels: int,
        pretrained: dict[str, torch.Tensor],
        hidden: int = 64,
        heads: int = 4,
        dropout: float = 0.0,
        num_environments: int = 1,
        fine_tune: bool = True,
        reconstruction: float = 1.0,
        gene_features: torch.Tensor | None = None,
    ):
        """``pretrained``: ``load_embeddings``' dict; only ``embeddings`` is needed when the
        weights come from a checkpoint (the decoders are then loaded with the state).
        ``gene_features``: (num_genes, F) projected onto each member's embedding (not in the
        paper)."""
        super().__init__()
        self.features = None
        if gene_features is not None:
            self.register_buffer("feature_matrix", gene_features.float(), persistent=False)
            self.features = nn.Linear(gene_features.shape[1], hidden, bias=False)
        self.heads, self.reconstruction = heads, reconstruction
        embeddings = pretrained["embeddings"]
        k, n, dim = embeddings.shape
        if fine_tune:
            self.pretrained = nn.Parameter(embeddings.clone())
        else:
            self.register_buffer("pretrained", embeddings.clone())
        self.decoder_weight = nn.Parameter(pretrained.get("decoder_weight", torch.zeros(k, n, dim)))
        self.decoder_bias = nn.Parameter(pretrained.get("decoder_bias", torch.zeros(k, n)))
        networks = list(gene_networks(cell).values())
        if len(networks) != k:
            raise TorchCellError(
                f"Dango: {k} pre-trained networks, the cell graph has {len(networks)}"
            )
        self.register_buffer(
            "network_edges",
            torch.cat(
                [torch.cat([torch.full((1, e.shape[1]), i), e]) for i, e in enumerate(networks)], 1
            ),
        )  # (network, source, target)
        density = torch.tensor([e.shape[1] / n**2 for e in networks])
        self.register_buffer("pos_weight", (1 - density) / density)
        self.project = nn.Linear(dim, hidden)
        self.network_score = nn.Sequential(
            nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1, bias=False)
        )
        self.kind = nn.Embedding(len(PERTURBATION_KINDS), hidden)
        self.static = nn.Sequential(mlp([hidden, hidden, hidden], dropout), nn.Tanh())
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=dropout, batch_first=True)
        self.environment = nn.Embedding(num_environments, hidden)
        self.head = mlp([hidden, hidden, num_labels], dropout)

    def gene_embedding(self) -> torch.Tensor:
        """(genes, hidden): each gene's networks weighted by attention (the meta-embedding)."""
        x = self.project(self.pretrained)
        weight = torch.softmax(self.network_score(x), dim=0)
        return (weight * x).sum(dim=0)

    def reconstruction_loss(self, genes: torch.Tensor) -> torch.Tensor:
        """BCE of ``genes``' adjacency rows in every network, from their current embeddings."""
        genes = torch.unique(genes)
        k, n, _ = self.pretrained.shape
        row = torch.full((n,), -1, dtype=torch.long, device=genes.device)
        row[genes] = torch.arange(genes.numel(), device=genes.device)
        network, source, target = self.network_edges
        hit = row[source] >= 0
        adjacency = torch.zeros(k, genes.numel(), n, device=genes.device)
        adjacency[network[hit], row[source[hit]], target[hit]] = 1.0
        logits = torch.einsum("kgd,knd->kgn", self.pretrained[:, genes], self.decoder_weight)
        return nn.functional.binary_cross_entropy_with_logits(
            logits + self.decoder_bias[:, None, :],
            adjacency,
            pos_weight=self.pos_weight[:, None, None],
        )

    def forward(self, batch) -> ModelOutput:
        sample, position = perturbed_sets(batch)
        counts = batch.num_perturbed
        b, k = counts.numel(), int(counts.max())
        genes = batch["gene"].perturbed
        members = self.gene_embedding()[genes] + self.kind(batch["gene"].perturbed_kind)
        if self.features is not None:
            members = members + self.features(self.feature_matrix[genes])
        x = members.new_zeros(b, k, members.shape[1])
        x[sample, position] = members
        padding = torch.ones(b, k, dtype=torch.bool, device=x.device)
        padding[sample, position] = False
        itself = torch.eye(k, dtype=torch.bool, device=x.device)[None] & (counts > 1)[:, None, None]
        blocked = (padding[:, None, :] | itself).repeat_interleave(self.heads, dim=0)
        dynamic, _ = self.attention(x, x, x, attn_mask=blocked, need_weights=False)
        change = (torch.tanh(dynamic) - self.static(x)) ** 2 * (~padding)[..., None]
        latent = change.sum(dim=1) + self.environment(batch.environment)
        extra = None
        if self.training and self.reconstruction and isinstance(self.pretrained, nn.Parameter):
            extra = self.reconstruction * self.reconstruction_loss(genes)
        return ModelOutput(self.head(latent), latent, extra_loss=extra)


class DangoConfig(GeneFeatureSection):
    embeddings: Path = Field(
        Path("runs/pretrain/dango_embeddings.pt"), description="written by tc pretrain-dango"
    )
    heads: int = Field(4, ge=1, description="attention heads of the hypergraph self-attention")
    fine_tune: bool = Field(True, description="train the pre-trained embeddings with the model")
    reconstruction: float = Field(
        1.0, ge=0, description="weight of the networks' reconstruction term (with fine_tune)"
    )
    loss: Literal["log_cosh", "mse"] = Field("log_cosh", description="the regression loss")


def _build(config, cell: CellGraph, num_labels: int, num_environments: int, restored=None):
    """A new run reads the pre-trained embeddings; a checkpoint's come with its weights, so
    only their width is needed to rebuild it."""
    c = config.dango
    if restored is None:
        pretrained = load_embeddings(c.embeddings, cell)
    else:
        shape = (len(gene_networks(cell)), len(cell.genes), restored["embedding_dim"])
        pretrained = {"embeddings": torch.zeros(shape)}
    return Dango(
        cell, num_labels, pretrained, config.hidden, c.heads, config.dropout, num_environments,
        fine_tune=c.fine_tune, reconstruction=c.reconstruction,
        gene_features=c.feature_matrix(cell),
    )  # fmt: skip


def _loss(output: ModelOutput, target: torch.Tensor, config, distribution=None) -> torch.Tensor:
    return default_loss(output, target, config, distribution, regression=config.dango.loss)


register(
    ModelSpec(
        "dango",
        DangoConfig,
        _build,
        _loss,
        restore=lambda model: {"embedding_dim": int(model.pretrained.shape[-1])},
        summary="pre-trained network embeddings + hypergraph self-attention (Zhang et al., 2020)",
    )  # fmt: skip
)
