"""DCell (Ma et al., Nature Methods 2018): a visible neural network shaped by the Gene Ontology.

The subsystems are the terms of ``torchcell.cell.ontology.Ontology``: IGI annotations dropped,
terms with fewer than ``min_genes`` genes (6) dropped, redundant terms merged, one root added.
A subsystem has ``max(min_neurons, ceil(neuron_fraction × genes))`` neurons (20 and 0.3 as
published), reads the mutant state of its own genes (those no kept child covers) and the
outputs of its children, and computes Norm(Tanh(Linear(input))), Norm being BatchNorm as
published (``norm="batch"``) or a per-term layer norm (``"layer"``, a named variant: see
``DCellConfig.norm``). Weights start U(±0.001) as published (``init_bound``). A linear
auxiliary output per term predicts the labels too; the root's output goes through the final
linear layer. The loss (``torchcell.losses.dcell_loss``) is the root MSE + α × the **sum** of
the terms' auxiliary MSEs + λ × the L2 norm of the linear weights (``penalized_weights``).

Not in the paper (one condition there): a per-environment offset of the prediction
(initialized to zero; with one environment it is a constant). Off by default, also not in the
paper: ``gene_features`` (GO, degrees, reactions, regulators) of the mutant genes, summed and
passed through an MLP added to the prediction, so that a gene no training sample mutates still
speaks through what is known about it.

Speed: terms are computed per topological stratum (leaves first), and within a stratum in a few
groups of similar input width, each group one batched matmul (``einsum`` over stacked,
zero-padded weights), instead of one small layer per term; ``placement[t]`` says where term t
lives (stratum, group, row), and a test recomputes every term one at a time from those weights
and checks that the numbers are the same.

``gene_embedding = k > 0`` replaces each gene's binary state by state × a learnable k-vector.

``gene_input="term_count"`` (a named variant, ``pipeline/train/dcell_term_count.yaml``): a term
reads one number for its own genes, how many of them are mutant, instead of one weight column
per gene. As published, a gene's columns get a gradient only from samples that mutate it, so
for a gene no training sample mutates (held-out genes) they stay at their U(±0.001) start and
its deletion predicts ≈ the wildtype; with counts, a gene acts through the weights of the terms
annotated with it, learned from those terms' other genes.

``term_bias=False`` (a named variant, with layer norm): no bias in a term's Linear or norm, so a
term with no mutant gene under it outputs exactly zero and a term's state is its deviation
from the wildtype. With biases, every term soon carries a learned constant (its wildtype
state) of the same size as the change one mutant makes; each level up mixes one changed
child with many constant ones, and a single mutant's signal at the root shrinks to where the
head reads only the mean (real single-mutant fitness: validation MSE at the mean's).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field
from torch import nn

from torchcell.cell.graph import CellGraph
from torchcell.cell.ontology import Ontology
from torchcell.losses import dcell_loss
from torchcell.models.base import ModelOutput, perturbed_genes, summed_features
from torchcell.models.gene_set import mlp
from torchcell.models.registry import GeneFeatureSection, ModelSpec, register


def neurons(size: int, min_neurons: int = 20, fraction: float = 0.3) -> int:
    return max(min_neurons, math.ceil(fraction * size))


class _TermGroup(nn.Module):
    """Terms of one stratum with similar input width: one batched Linear, Tanh, BatchNorm, aux."""

    def __init__(
        self,
        inputs: list[list[int]],
        widths: list[int],
        num_labels: int,
        zero: int,
        norm: str,
        init_bound: float | None,
        bias: bool = True,
    ):
        super().__init__()
        t, d, o = len(inputs), max(map(len, inputs)), max(widths)
        index = torch.full((t, d), zero, dtype=torch.long)
        weight, mask = torch.zeros(t, d, o), torch.zeros(t, o)
        for i, (cols, width) in enumerate(zip(inputs, widths, strict=True)):
            index[i, : len(cols)] = torch.tensor(cols, dtype=torch.long)
            bound = init_bound or 1 / math.sqrt(max(len(cols), 1))
            weight[i, : len(cols), :width].uniform_(-bound, bound)
            mask[i, :width] = 1.0
        self.register_buffer("index", index)
        self.register_buffer("mask", mask)
        self.weight = nn.Parameter(weight)
        # without bias (layer norm only), a term whose input is zero outputs exactly zero
        shift = nn.Parameter if bias else nn.Buffer
        self.bias = shift(torch.zeros(t, o))
        self.norm_kind = norm
        if norm == "batch":
            self.norm = nn.BatchNorm1d(t * o)
        else:  # "layer": over each term's own neurons, the same in training and evaluation
            self.norm_weight = nn.Parameter(torch.ones(t, o))
            self.norm_bias = shift(torch.zeros(t, o))
        aux_bound = init_bound or 1 / math.sqrt(o)
        self.aux_weight = nn.Parameter(
            torch.empty(t, o, num_labels).uniform_(-aux_bound, aux_bound) * mask[..., None]
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

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x``: (B, terms, inputs), the group's inputs (gathered by ``DCell`` per stratum)."""
        b = x.shape[0]
        h = torch.tanh(torch.einsum("btd,tdo->bto", x, self.weight) + self.bias)
        h = self._normalize(h) * self.mask
        aux = torch.einsum("bto,tol->btl", h, self.aux_weight) + self.aux_bias
        return h.reshape(b, -1), aux


class DCell(nn.Module):
    def __init__(
        self,
        cell: CellGraph,
        num_labels: int,
        min_genes: int = 6,
        min_neurons: int = 20,
        neuron_fraction: float = 0.3,
        gene_embedding: int = 0,
        group_slack: float = 1.25,
        num_environments: int = 1,
        norm: str = "batch",
        exclude_evidence: tuple[str, ...] = ("IGI",),
        merge_redundant: bool = True,
        init_bound: float | None = 0.001,
        gene_input: str = "gene",
        term_bias: bool = True,
        gene_features: torch.Tensor | None = None,
        hidden: int = 64,
    ):
        """``init_bound``: weights start U(±bound) (0.001 as published); None: U(±1/√fan_in).
        ``gene_input``: "gene" (as published) or "term_count" (see the module docstring).
        ``term_bias=False``: the wildtype-zero variant (see the module docstring).
        ``gene_features``: (num_genes, F); the mutant genes' summed features go through an
        MLP of width ``hidden`` whose output is added to the prediction (not in the paper)."""
        super().__init__()
        self.feature_head = None
        if gene_features is not None:
            self.register_buffer("feature_matrix", gene_features.float(), persistent=False)
            self.feature_head = mlp([gene_features.shape[1], hidden, num_labels])
        if gene_input not in ("gene", "term_count"):
            raise ValueError(f"unknown DCell gene_input {gene_input!r}")
        if not term_bias and norm != "layer":
            raise ValueError("DCell term_bias false needs norm 'layer' (BatchNorm re-centres)")
        if gene_input == "term_count" and gene_embedding:
            raise ValueError("DCell gene_embedding needs gene_input 'gene'")
        self.num_genes = len(cell.genes)
        self.ontology = onto = Ontology.from_cell(
            cell, min_genes, tuple(exclude_evidence), merge_redundant
        )
        k = max(gene_embedding, 1)
        self.gene_embedding = (
            nn.Parameter(torch.randn(self.num_genes, k)) if gene_embedding else None
        )
        self.term_count = gene_input == "term_count"
        if self.term_count:  # (term, gene) of every term's own genes
            pairs = [(t, g) for t, genes in enumerate(onto.direct_genes) for g in genes]
            self.register_buffer("own_pairs", torch.tensor(pairs, dtype=torch.long).reshape(-1, 2))
        # a constant-zero input column after the mutant state (per gene, or per term's count)
        zero = len(onto.terms) if self.term_count else self.num_genes * k
        width = zero + 1
        self.widths = [neurons(s, min_neurons, neuron_fraction) for s in onto.sizes]
        columns: dict[int, list[int]] = {}  # term → its neurons' columns in the running source
        self.strata = nn.ModuleList()
        order: list[int] = []  # term of every auxiliary output, in computation order
        self.placement: dict[int, tuple[int, int, int]] = {}  # term → (stratum, group, row)
        for stratum in onto.strata:
            inputs = {
                t: (
                    ([t] if onto.direct_genes[t] else [])
                    if self.term_count
                    else [g * k + j for g in onto.direct_genes[t] for j in range(k)]
                )
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
                    init_bound,
                    term_bias,
                )
                o = group.mask.shape[1]
                for i, t in enumerate(members):
                    self.placement[t] = (len(self.strata), len(groups), i)
                    columns[t] = list(range(offset + i * o, offset + i * o + self.widths[t]))
                offset += group.width
                order.extend(members)
                groups.append(group)
            width = offset
            self.strata.append(groups)
            # one gather per stratum (its backward fills one zero tensor, not one per group)
            self.register_buffer(
                f"stratum_index_{len(self.strata) - 1}",
                torch.cat([g.index.flatten() for g in groups]),
            )
        root = len(onto.terms) - 1  # alone in the last stratum: its group's output is its own
        # auxiliary outputs reordered to term order, the root's left out
        position = {t: i for i, t in enumerate(order)}
        self.register_buffer(
            "aux_order", torch.tensor([position[t] for t in range(root)], dtype=torch.long)
        )
        self.head = nn.Linear(self.widths[root], num_labels)
        if init_bound:
            nn.init.uniform_(self.head.weight, -init_bound, init_bound)
            nn.init.zeros_(self.head.bias)
        # not in the paper (one condition there): a per-environment offset of the prediction
        self.environment = nn.Embedding(num_environments, num_labels)
        nn.init.zeros_(self.environment.weight)

    def penalized_weights(self) -> list[torch.Tensor]:
        """The tensors DCell's L2 term reads: the linear weights, not biases or norm scales."""
        weights = [g.weight for groups in self.strata for g in groups]
        weights += [g.aux_weight for groups in self.strata for g in groups]
        return [*weights, self.head.weight]

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
        if self.term_count:  # each term's count of mutant own genes
            term, gene = self.own_pairs.T
            counts = state.new_zeros(state.shape[0], len(self.ontology.terms))
            state = counts.index_add_(1, term, state[:, gene])
        sources = [state, state.new_zeros(state.shape[0], 1)]
        auxiliary = []
        for s, groups in enumerate(self.strata):
            gathered = torch.cat(sources, dim=1)[:, getattr(self, f"stratum_index_{s}")]
            parts = gathered.split([g.index.numel() for g in groups], dim=1)
            for group, x in zip(groups, parts, strict=True):
                h, aux = group(x.view(x.shape[0], *group.index.shape))
                sources.append(h)
                auxiliary.append(aux)
        root = sources[-1]
        auxiliary = torch.cat(auxiliary, dim=1)[:, self.aux_order]
        pred = self.head(root) + self.environment(batch.environment)
        if self.feature_head is not None:
            pred = pred + self.feature_head(summed_features(batch, self.feature_matrix))
        return ModelOutput(pred, root, auxiliary)


class DCellConfig(GeneFeatureSection):
    """Defaults are the paper's; ``pipeline/train/dcell_layernorm.yaml`` lists a variant."""

    min_genes: int = Field(6, ge=1, description="GO terms with fewer genes are left out")
    exclude_evidence: list[str] = Field(
        default_factory=lambda: ["IGI"],
        description="GO evidence codes whose annotations are dropped (IGI: from genetic "
        "interactions, label leakage)",
    )
    merge_redundant: bool = Field(True, description="merge a term into its same-gene child")
    min_neurons: int = Field(20, ge=1, description="the fewest neurons of a subsystem")
    neuron_fraction: float = Field(
        0.3, gt=0, description="a subsystem of n genes has max(min_neurons, ⌈fraction·n⌉) neurons"
    )
    alpha: float = Field(0.3, ge=0, description="weight of the summed per-term auxiliary losses")
    l2: float = Field(0.0, ge=0, description="λ: L2 penalty on the linear weights (not biases)")
    init_bound: float | None = Field(
        0.001, gt=0, description="weights start U(±bound); null: U(±1/√fan_in)"
    )
    gene_embedding: int = Field(0, ge=0, description="0: binary mutant state (as published)")
    gene_input: Literal["gene", "term_count"] = Field(
        "gene",
        description="gene: one weight column per gene in its terms (as published; a gene no "
        "training sample mutates keeps its initial weights); term_count: a term reads how many "
        "of its own genes are mutant (a variant that speaks for held-out genes)",
    )
    term_bias: bool = Field(
        True,
        description="false: no bias in a term's Linear and layer norm, so an unperturbed term "
        "outputs zero (a variant; needs norm layer)",
    )
    norm: Literal["layer", "batch"] = Field(
        "batch",
        description="batch: BatchNorm as published; layer: per term over its neurons, "
        "identical in training and evaluation (BatchNorm's population statistics of sparse "
        "mutant states differ from a batch's)",
    )


def _build(config, cell: CellGraph, num_labels: int, num_environments: int, restored=None):
    c = config.dcell
    return DCell(
        cell, num_labels, c.min_genes, c.min_neurons, c.neuron_fraction, c.gene_embedding,
        num_environments=num_environments, norm=c.norm,
        exclude_evidence=tuple(c.exclude_evidence), merge_redundant=c.merge_redundant,
        init_bound=c.init_bound, gene_input=c.gene_input, term_bias=c.term_bias,
        gene_features=c.feature_matrix(cell), hidden=config.hidden,
    )  # fmt: skip


def _loss(output: ModelOutput, target: torch.Tensor, config, distribution=None) -> torch.Tensor:
    return dcell_loss(output.pred, output.auxiliary, target, config.dcell.alpha)


def _optimizer(model: DCell, config) -> torch.optim.Optimizer:
    """DCell's L2 term λ·Σ‖w‖² on the linear weights only, as Adam's (coupled) weight decay 2λ:
    the same gradient as adding it to the loss, without a pass over the 10⁸ weights of the
    real GO size in every step's loss."""
    penalized = {id(p) for p in model.penalized_weights()}
    groups = [
        {
            "params": [p for p in model.parameters() if id(p) in penalized],
            "weight_decay": 2 * config.dcell.l2,
        },
        {"params": [p for p in model.parameters() if id(p) not in penalized]},
    ]
    return torch.optim.Adam(groups, lr=config.lr, weight_decay=0.0)


register(
    ModelSpec(
        "dcell",
        DCellConfig,
        _build,
        _loss,
        _optimizer,
        summary="visible neural network shaped by the Gene Ontology (Ma et al., 2018)",
    )  # fmt: skip
)
