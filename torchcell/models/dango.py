"""Dango (after Zhang et al., 2020): pre-trained network embeddings + hypergraph self-attention.

1. Pre-training (``tc pretrain-dango``, ``torchcell.train.pretrain``) fits, per gene network
   of the cell graph, a graph auto-encoder that reconstructs each gene's neighbours, and saves
   the embeddings (networks × genes × dim).
2. The model combines a gene's network embeddings with attention over the networks (the
   meta-embedding), and for each perturbed set computes a static embedding per member
   (a feed-forward map of the member alone) and a dynamic one (self-attention over the other
   members; a single gene attends to itself). The mean over members of (dynamic − static)²
   feeds the head: the more the set changes its members, the stronger the interaction.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from torchcell.cell.graph import CellGraph
from torchcell.errors import TorchCellError
from torchcell.models.base import ModelOutput, perturbed_sets
from torchcell.models.gene_set import mlp
from torchcell.schema.records import PERTURBATION_KINDS

EMBEDDINGS_FORMAT = 1


def load_embeddings(path: Path, cell: CellGraph) -> torch.Tensor:
    """The (networks, genes, dim) tensor written by ``tc pretrain-dango`` for this cell graph."""
    path = Path(path)
    if not path.exists():
        raise TorchCellError(
            f"Dango needs pre-trained embeddings and {path} does not exist; "
            f"write them with: tc pretrain-dango DATASET --out {path}"
        )
    raw = torch.load(path, weights_only=True)
    if raw.get("format") != EMBEDDINGS_FORMAT:
        raise TorchCellError(
            f"{path}: embeddings format {raw.get('format')} is not {EMBEDDINGS_FORMAT}"
        )
    if raw["genes"] != cell.genes:
        raise TorchCellError(
            f"{path} was pre-trained on another gene list ({len(raw['genes'])} genes) than this "
            f"dataset's cell graph ({len(cell.genes)}); run tc pretrain-dango on this dataset"
        )
    return raw["embeddings"].float()


class Dango(nn.Module):
    def __init__(
        self,
        cell: CellGraph,
        num_labels: int,
        embeddings: torch.Tensor,
        hidden: int = 64,
        heads: int = 4,
        dropout: float = 0.0,
        num_environments: int = 1,
    ):
        super().__init__()
        self.heads = heads
        self.register_buffer("pretrained", embeddings)  # frozen, as in the paper
        self.project = nn.Linear(embeddings.shape[-1], hidden)
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

    def forward(self, batch) -> ModelOutput:
        sample, position = perturbed_sets(batch)
        counts = batch.num_perturbed
        b, k = counts.numel(), int(counts.max())
        members = self.gene_embedding()[batch["gene"].perturbed] + self.kind(
            batch["gene"].perturbed_kind
        )
        x = members.new_zeros(b, k, members.shape[1])
        x[sample, position] = members
        padding = torch.ones(b, k, dtype=torch.bool, device=x.device)
        padding[sample, position] = False
        itself = torch.eye(k, dtype=torch.bool, device=x.device)[None] & (counts > 1)[:, None, None]
        blocked = (padding[:, None, :] | itself).repeat_interleave(self.heads, dim=0)
        dynamic, _ = self.attention(x, x, x, attn_mask=blocked, need_weights=False)
        change = (torch.tanh(dynamic) - self.static(x)) ** 2 * (~padding)[..., None]
        latent = change.sum(dim=1) / counts[:, None] + self.environment(batch.environment)
        return ModelOutput(self.head(latent), latent)
