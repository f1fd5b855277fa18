"""A small baseline model: learnable gene embeddings pooled over the perturbed set (Deep Sets).

``prediction = rho( sum over perturbed genes g of phi(embedding[g] + kind_embedding[kind]) )``.
phi is applied to every gene once per batch, then a (B × N) mask product sums the perturbed
ones, so the cost is one pass over the gene table per batch, not one per sample.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from torchcell.models.base import ModelOutput, perturbed_genes
from torchcell.models.registry import GeneFeatureSection, ModelSpec, register


def mlp(sizes: list[int], dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers += [nn.GELU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class GeneSetModel(nn.Module):
    def __init__(
        self,
        num_genes: int,
        num_labels: int,
        hidden: int = 64,
        dropout: float = 0.0,
        num_environments: int = 1,
        gene_features: torch.Tensor | None = None,
    ):
        """``gene_features``: (num_genes, F) inputs projected onto each gene's embedding (what a
        gene no training sample perturbs brings)."""
        super().__init__()
        self.num_genes = num_genes
        self.gene = nn.Embedding(num_genes, hidden)
        self.features = None
        if gene_features is not None:
            self.register_buffer("feature_matrix", gene_features.float())
            self.features = nn.Linear(gene_features.shape[1], hidden, bias=False)
        self.environment = nn.Embedding(num_environments, hidden)
        self.phi = mlp([hidden, hidden, hidden], dropout)
        self.rho = mlp([hidden, hidden, num_labels], dropout)

    def forward(self, batch) -> ModelOutput:
        embedding = self.gene.weight
        if self.features is not None:
            embedding = embedding + self.features(self.feature_matrix)
        per_gene = self.phi(embedding)
        pooled = perturbed_genes(batch, self.num_genes).to(per_gene.dtype) @ per_gene
        pooled = pooled + self.environment(batch.environment)
        return ModelOutput(self.rho(pooled), pooled)


class GeneSetConfig(GeneFeatureSection):
    pass


def _build(config, cell, num_labels: int, num_environments: int, restored=None):
    return GeneSetModel(
        len(cell.genes), num_labels, config.hidden, config.dropout, num_environments,
        config.gene_set.feature_matrix(cell),
    )  # fmt: skip


register(
    ModelSpec(
        "gene_set",
        GeneSetConfig,
        _build,
        summary="learnable gene embeddings summed over the perturbed set (Deep Sets)",
    )  # fmt: skip
)
