"""Build the model a ``TrainConfig`` names, for a cell graph."""

from __future__ import annotations

import torch
from torch import nn

from torchcell.cell.gene_features import gene_features
from torchcell.cell.graph import CellGraph
from torchcell.models.dango import Dango, load_embeddings
from torchcell.models.dcell import DCell
from torchcell.models.gene_set import GeneSetModel
from torchcell.models.hetero_cell import HeteroCell


def build_model(
    config,
    cell: CellGraph,
    num_labels: int,
    num_environments: int = 1,
    embeddings: torch.Tensor | None = None,
) -> nn.Module:
    """Every model also reads the sample's environment (media, temperature) index.

    ``embeddings``: Dango's (fine-tuned) embedding tensor when already at hand (from a
    checkpoint, whose state also holds the decoders).
    """
    n_env = num_environments
    if config.model == "gene_set":
        return GeneSetModel(len(cell.genes), num_labels, config.hidden, config.dropout, n_env)
    if config.model == "hetero_cell":
        c = config.hetero_cell
        return HeteroCell(
            cell, num_labels, config.hidden, c.layers, c.heads, config.dropout, c.pooling,
            c.gating, c.attention, num_environments=n_env, string_modes=tuple(c.string_modes),
            encoder=c.encoder,
            gene_features=gene_features(cell, c.gene_features) if c.gene_features else None,
        )  # fmt: skip
    if config.model == "dcell":
        c = config.dcell
        return DCell(
            cell, num_labels, c.min_genes, c.min_neurons, c.neuron_fraction, c.gene_embedding,
            num_environments=n_env, norm=c.norm, exclude_evidence=tuple(c.exclude_evidence),
            merge_redundant=c.merge_redundant, init_bound=c.init_bound, gene_input=c.gene_input,
            term_bias=c.term_bias,
        )  # fmt: skip
    if config.model == "dango":
        c = config.dango
        pretrained = (
            load_embeddings(c.embeddings, cell)
            if embeddings is None
            else {"embeddings": embeddings}
        )
        return Dango(
            cell, num_labels, pretrained, config.hidden, c.heads, config.dropout, n_env,
            fine_tune=c.fine_tune, reconstruction=c.reconstruction,
        )  # fmt: skip
    raise ValueError(f"unknown model {config.model!r}")
