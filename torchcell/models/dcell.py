"""DCell (Ma et al., Nature Methods 2018): a visible neural network shaped by the Gene Ontology.

Every GO term with at least ``min_genes`` genes (annotated to it or to its descendants) is a
subsystem with ``max(min_neurons, ceil(neuron_fraction × genes))`` neurons (20 and 0.3 as
published). A subsystem reads the mutant state of its own genes (those that no kept child
covers) and the outputs of its kept children, and computes Norm(Tanh(Linear(input))), Norm
being BatchNorm as published (``norm="batch"``) or a per-term layer norm (``"layer"``, the
training config's default: see ``DCellConfig.norm`` for why); a
linear auxiliary output per term predicts the labels too. Terms without a kept parent feed a
root subsystem, whose output the final linear layer maps to the labels. The loss
(``torchcell.losses.dcell_loss``) is the root MSE + α × the **sum** of the terms' auxiliary
MSEs + an L2 penalty.

Speed: terms are computed per topological stratum (leaves first), and within a stratum in a few
groups of similar input width, each group one batched matmul (``einsum`` over stacked,
zero-padded weights), instead of one small layer per term.

``gene_embedding = k > 0`` replaces each gene's binary state by state × a learnable k-vector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from torchcell.cell.graph import CellGraph
from torchcell.cell.processors import DCellRepresentation
from torchcell.models.base import ModelOutput, perturbed_genes


@dataclass
class Ontology:
    """The filtered GO hierarchy plus a root: children, own genes, sizes, strata."""

    terms: list[str]
    """Kept GO ids, then ``"root"`` last."""
    children: list[list[int]]
    direct_genes: list[list[int]]
    sizes: list[int]
    strata: list[list[int]]
    """Term positions by height: leaves first, the root alone last."""

    @classmethod
    def from_cell(cls, cell: CellGraph, min_genes: int) -> Ontology:
        rep = DCellRepresentation(cell, min_genes)
        n = len(rep.terms)
        genes_of: list[set[int]] = [set() for _ in range(n + 1)]
        for t, g in zip(rep.pair_term.tolist(), rep.pair_gene.tolist(), strict=True):
            genes_of[t].add(g)
        children: list[list[int]] = [[] for _ in range(n + 1)]
        has_parent = [False] * n
        for child, parent in rep.term_edges.t().tolist():
            children[parent].append(child)
            has_parent[child] = True
        children[n] = [t for t in range(n) if not has_parent[t]]
        genes_of[n] = set().union(*genes_of[:n]) if n else set()
        direct = [
            sorted(genes_of[t] - set().union(*(genes_of[c] for c in children[t])))
            for t in range(n + 1)
        ]
        height = [0] * (n + 1)
        for t in cls._topological(children):
            height[t] = 1 + max((height[c] for c in children[t]), default=-1)
        height[n] = max(height[:n], default=-1) + 1  # the root always runs last, alone
        strata = [[t for t in range(n + 1) if height[t] == h] for h in range(height[n] + 1)]
        return cls(
            terms=[cell.go_terms[t] for t in rep.terms] + ["root"],
            children=children,
            direct_genes=direct,
            sizes=[len(s) for s in genes_of],
            strata=[s for s in strata if s],
        )

    @staticmethod
    def _topological(children: list[list[int]]) -> list[int]:
        """Children before parents (the GO DAG has no cycles; one would raise here)."""
        order, state = [], [0] * len(children)
        for start in range(len(children)):
            stack = [(start, False)]
            while stack:
                t, done = stack.pop()
                if done:
                    state[t] = 2
                    order.append(t)
                    continue
                if state[t] == 2:
                    continue
                if state[t] == 1:
                    raise ValueError(f"the GO graph has a cycle through term {t}")
                state[t] = 1
                stack.append((t, True))
                stack.extend((c, False) for c in children[t] if state[c] != 2)
        return order


def neurons(size: int, min_neurons: int = 20, fraction: float = 0.3) -> int:
    return max(min_neurons, math.ceil(fraction * size))


class _TermGroup(nn.Module):
    """Terms of one stratum with similar input width: one batched Linear, Tanh, BatchNorm, aux."""

    def __init__(
        self, inputs: list[list[int]], widths: list[int], num_labels: int, zero: int, norm: str
    ):
        super().__init__()
        t, d, o = len(inputs), max(map(len, inputs)), max(widths)
        index = torch.full((t, d), zero, dtype=torch.long)
        weight, mask = torch.zeros(t, d, o), torch.zeros(t, o)
        for i, (cols, width) in enumerate(zip(inputs, widths, strict=True)):
            index[i, : len(cols)] = torch.tensor(cols, dtype=torch.long)
            bound = 1 / math.sqrt(len(cols))
            weight[i, : len(cols), :width].uniform_(-bound, bound)
            mask[i, :width] = 1.0
        self.register_buffer("index", index)
        self.register_buffer("mask", mask)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.zeros(t, o))
        self.norm_kind = norm
        if norm == "batch":
            self.norm = nn.BatchNorm1d(t * o)
        else:  # "layer": over each term's own neurons, the same in training and evaluation
            self.norm_weight = nn.Parameter(torch.ones(t, o))
            self.norm_bias = nn.Parameter(torch.zeros(t, o))
        self.aux_weight = nn.Parameter(
            torch.randn(t, o, num_labels) * mask[..., None] / math.sqrt(o)
        )
        self.aux_bias = nn.Parameter(torch.zeros(t, num_labels))

    def _normalize(self, h: torch.Tensor) -> torch.Tensor:
        b, t, o = h.shape
        if self.norm_kind == "batch":
            return self.norm(h.reshape(b, -1)).view(b, t, o)
        count = self.mask.sum(dim=1, keepdim=True)
        mean = (h * self.mask).sum(dim=2, keepdim=True) / count
        var = (((h - mean) * self.mask) ** 2).sum(dim=2, keepdim=True) / count
        return (h - mean) / torch.sqrt(var + 1e-5) * self.norm_weight + self.norm_bias

    @property
    def width(self) -> int:
        return self.mask.numel()

    def forward(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = source.shape[0]
        t, d = self.index.shape
        x = source[:, self.index.flatten()].view(b, t, d)
        h = torch.tanh(torch.einsum("btd,tdo->bto", x, self.weight) + self.bias)
        h = self._normalize(h) * self.mask
        aux = torch.einsum("bto,tol->btl", h, self.aux_weight) + self.aux_bias
        return h.reshape(b, -1), aux


class DCell(nn.Module):
    def __init__(
        self,
        cell: CellGraph,
        num_labels: int,
        min_genes: int = 5,
        min_neurons: int = 20,
        neuron_fraction: float = 0.3,
        gene_embedding: int = 0,
        group_slack: float = 1.25,
        num_environments: int = 1,
        norm: str = "batch",
    ):
        super().__init__()
        self.num_genes = len(cell.genes)
        self.ontology = onto = Ontology.from_cell(cell, min_genes)
        k = max(gene_embedding, 1)
        self.gene_embedding = (
            nn.Parameter(torch.randn(self.num_genes, k)) if gene_embedding else None
        )
        zero = self.num_genes * k  # a constant-zero input column that pads every group
        width = zero + 1
        self.widths = [neurons(s, min_neurons, neuron_fraction) for s in onto.sizes]
        columns: dict[int, list[int]] = {}  # term → its neurons' columns in the running source
        self.strata = nn.ModuleList()
        order: list[int] = []  # term of every auxiliary output, in computation order
        for stratum in onto.strata:
            inputs = {
                t: [g * k + j for g in onto.direct_genes[t] for j in range(k)]
                + [c for child in onto.children[t] for c in columns[child]]
                for t in stratum
            }
            groups, offset = nn.ModuleList(), width
            for members in self._group(
                sorted(stratum, key=lambda t: len(inputs[t])), inputs, group_slack
            ):
                group = _TermGroup(
                    [inputs[t] for t in members],
                    [self.widths[t] for t in members],
                    num_labels,
                    zero,
                    norm,
                )
                o = group.mask.shape[1]
                for i, t in enumerate(members):
                    columns[t] = list(range(offset + i * o, offset + i * o + self.widths[t]))
                offset += group.width
                order.extend(members)
                groups.append(group)
            width = offset
            self.strata.append(groups)
        root = len(onto.terms) - 1  # alone in the last stratum: its group's output is its own
        # auxiliary outputs reordered to term order, the root's left out
        position = {t: i for i, t in enumerate(order)}
        self.register_buffer(
            "aux_order", torch.tensor([position[t] for t in range(root)], dtype=torch.long)
        )
        self.head = nn.Linear(self.widths[root], num_labels)
        # not in the paper (one condition there): a per-environment offset of the prediction
        self.environment = nn.Embedding(num_environments, num_labels)
        nn.init.zeros_(self.environment.weight)

    @staticmethod
    def _group(terms: list[int], inputs: dict[int, list[int]], slack: float) -> list[list[int]]:
        """Consecutive runs (by input width) whose widest member is ≤ slack × the narrowest + 8."""
        groups: list[list[int]] = []
        for t in terms:
            if groups and len(inputs[t]) <= slack * len(inputs[groups[-1][0]]) + 8:
                groups[-1].append(t)
            else:
                groups.append([t])
        return groups

    def forward(self, batch) -> ModelOutput:
        # DCell's input is the binary mutant state of every gene: any allele kind is a mutant.
        state = perturbed_genes(batch, self.num_genes).float()
        if self.gene_embedding is not None:
            state = (state[:, :, None] * self.gene_embedding).flatten(1)
        sources = [state, state.new_zeros(state.shape[0], 1)]
        auxiliary = []
        for groups in self.strata:
            source = torch.cat(sources, dim=1)
            for group in groups:
                h, aux = group(source)
                sources.append(h)
                auxiliary.append(aux)
        root = sources[-1]
        auxiliary = torch.cat(auxiliary, dim=1)[:, self.aux_order]
        pred = self.head(root) + self.environment(batch.environment)
        return ModelOutput(pred, root, auxiliary)
