"""``tc pretrain-dango``: gene embeddings pre-trained on the gene networks of a cell graph.

Networks: physical interactions, regulation (as undirected), STRING actions per mode (when the
graph holds them), and co-metabolism (two genes
in the rule of the same reaction). Per network, as in Dango's pre-training, a two-layer graph
convolution over learnable gene embeddings is trained to reconstruct every gene's row of the
adjacency matrix (binary cross-entropy, positives up-weighted by the network's sparsity). The
second layer's output is the gene's embedding for that network. Genes without a neighbour in
a network keep an embedding learned from the reconstruction of their (empty) row.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from torchcell.cell.graph import CellGraph
from torchcell.checksum import write_json
from torchcell.models.dango import EMBEDDINGS_FORMAT, gene_networks
from torchcell.models.message_passing import propagate
from torchcell.progress import Progress, no_progress


class NetworkAutoencoder(nn.Module):
    def __init__(self, num_genes: int, edges: torch.Tensor, dim: int):
        super().__init__()
        self.embedding = nn.Embedding(num_genes, dim)
        self.layer1, self.layer2 = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.decoder = nn.Linear(dim, num_genes)
        loops = torch.arange(num_genes).repeat(2, 1)
        edges = torch.cat([edges, loops], 1)
        degree = torch.bincount(edges[1], minlength=num_genes).float()
        self.register_buffer("edges", edges)
        self.register_buffer("weight", degree[edges[0]].rsqrt() * degree[edges[1]].rsqrt())

    def encode(self) -> torch.Tensor:
        n = self.embedding.num_embeddings
        h = nn.functional.gelu(
            self.layer1(propagate(self.embedding.weight, *self.edges, self.weight, n))
        )
        return self.layer2(propagate(h, *self.edges, self.weight, n))


def pretrain_network(
    num_genes: int, edges: torch.Tensor, dim: int, epochs: int, lr: float, rows_per_step: int = 1024
) -> tuple[torch.Tensor, nn.Linear, float]:
    """Fit one network's auto-encoder; returns (embeddings (N, dim), its decoder, final loss)."""
    model = NetworkAutoencoder(num_genes, edges, dim)
    adjacency = torch.zeros(num_genes, num_genes)
    adjacency[edges[0], edges[1]] = 1.0
    positive = float(adjacency.sum())
    pos_weight = torch.tensor((adjacency.numel() - positive) / max(positive, 1.0))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss = torch.tensor(float("nan"))
    for _ in range(epochs):
        for rows in torch.randperm(num_genes).split(rows_per_step):
            logits = model.decoder(model.encode()[rows])
            loss = nn.functional.binary_cross_entropy_with_logits(
                logits, adjacency[rows], pos_weight=pos_weight
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return model.encode(), model.decoder, float(loss)


def pretrain_embeddings(
    dataset: Path,
    out: Path,
    dim: int = 64,
    epochs: int = 100,
    lr: float = 1e-2,
    seed: int = 0,
    progress: Progress = no_progress,
    log: Callable[[str], None] = print,
) -> Path:
    torch.manual_seed(seed)
    cell = CellGraph.load(dataset)
    networks = gene_networks(cell)
    if not networks:
        raise ValueError(f"the cell graph of {dataset} has no gene network to pre-train on")
    advance = progress("pre-training network embeddings", len(networks))
    embeddings, decoders, summary = [], [], {}
    for name, edges in networks.items():
        emb, decoder, loss = pretrain_network(len(cell.genes), edges, dim, epochs, lr)
        embeddings.append(emb)
        decoders.append(decoder)
        summary[name] = {"edges": edges.shape[1] // 2, "final_loss": loss}
        log(f"{name}: {edges.shape[1] // 2:,} edges, reconstruction loss {loss:.4f}")
        advance(1)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "format": EMBEDDINGS_FORMAT,
            "genes": cell.genes,
            "networks": list(networks),
            "embeddings": torch.stack(embeddings),
            "decoder_weight": torch.stack([d.weight.detach() for d in decoders]),
            "decoder_bias": torch.stack([d.bias.detach() for d in decoders]),
        },
        out,
    )
    write_json(
        out.with_suffix(".json"),
        {"dataset": str(dataset), "dim": dim, "epochs": epochs, "seed": seed, "networks": summary},
    )
    return out
