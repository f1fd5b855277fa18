"""Set aggregation over the genes (or reactions) that remain in each perturbed cell.

``CellSetPool`` is Set-Transformer pooling (Lee et al., 2019) over each sample's members with
its removed ones masked out. The members are either one (N, D) set shared by the batch (the
wildtype embeddings: scores are computed once and broadcast) or a (B, N, D) set per sample
(the perturbed cell's embeddings). Removal is explicit masking of the softmax (score −∞),
computed in float32 under any autocast, so it is exact at any logit gap; subtracting the
removed members' share from the whole set's softmax sums loses precision when attention
concentrates on them (~8 % at a gap of 15 in float32) and is not used.

* ``pma``: learnable seeds attend over the set (pooling by multihead attention);
  B × heads × N scores.
* ``isab``: inducing points first summarize the remaining set, every member then attends to
  its sample's summary, and a PMA over the members pools the result. Costs B × N × inducing
  points; more expressive, slower.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn


class _Block(nn.Module):
    """The residual part of a multihead attention block: LN(q + o), then LN(h + FF(h))."""

    def __init__(self, dim: int):
        super().__init__()
        self.out = nn.Linear(dim, dim)
        self.ff = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, query: torch.Tensor, attended: torch.Tensor) -> torch.Tensor:
        h = self.norm1(query + self.out(attended))
        return self.norm2(h + self.ff(h))


class MaskedPMA(nn.Module):
    """``seeds`` queries attend over a set with per-sample removals (see module doc)."""

    def __init__(self, dim: int, heads: int = 4, seeds: int = 1):
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden size {dim} is not divisible by {heads} heads")
        self.heads, self.seeds = heads, seeds
        self.seed = nn.Parameter(torch.randn(seeds, dim) / math.sqrt(dim))
        self.q, self.k, self.v = (nn.Linear(dim, dim) for _ in range(3))
        self.block = _Block(dim)

    def forward(self, x: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
        """``x``: (N, D) members shared by every sample, or (B, N, D) one set per sample;
        ``removed``: (B, N) bool. Returns (B, seeds, D)."""
        n, dim = x.shape[-2:]
        batch, h, d = removed.shape[0], self.heads, dim // self.heads
        seed = self.seed.expand(batch, -1, -1)
        if n == 0:  # e.g. a cell graph without a metabolic model
            return self.block(seed, x.new_zeros(batch, self.seeds, dim))
        q = self.q(self.seed).view(self.seeds, h, d)
        k = self.k(x).unflatten(-1, (h, d))
        v = self.v(x).unflatten(-1, (h, d))
        if x.dim() == 2:  # score once, shared: (1, h, m, N)
            score = torch.einsum("mhd,nhd->hmn", q, k)[None]
        else:
            score = torch.einsum("mhd,bnhd->bhmn", q, k)
        score = (score / math.sqrt(d)).masked_fill(removed[:, None, None, :], float("-inf"))
        # a sample with every member removed attends to nothing (0), not NaN
        weight = torch.softmax(score, dim=-1).nan_to_num(0.0)
        equation = "bhmn,nhd->bmhd" if x.dim() == 2 else "bhmn,bnhd->bmhd"
        attended = torch.einsum(equation, weight, v).reshape(batch, self.seeds, dim)
        return self.block(seed, attended)


def masked_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, heads: int, mask=None
) -> torch.Tensor:
    """(B, Q, D) attending over (B, K, D); ``mask`` (B, K) True = ignore."""
    b, nq, dim = query.shape
    d = dim // heads
    q = query.view(b, nq, heads, d).transpose(1, 2)
    k = key.view(b, -1, heads, d).transpose(1, 2)
    v = value.view(b, -1, heads, d).transpose(1, 2)
    attn_mask = None if mask is None else ~mask[:, None, None, :]
    out = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    return out.transpose(1, 2).reshape(b, nq, dim)


class CellSetPool(nn.Module):
    def __init__(
        self, dim: int, heads: int = 4, mode: Literal["pma", "isab"] = "pma", inducing: int = 8
    ):
        super().__init__()
        self.mode, self.heads = mode, heads
        self.summary = MaskedPMA(dim, heads, seeds=inducing if mode == "isab" else 1)
        if mode == "isab":
            self.q, self.k, self.v = (nn.Linear(dim, dim) for _ in range(3))
            self.member_block = _Block(dim)
            self.seed = nn.Parameter(torch.randn(1, dim) / math.sqrt(dim))
            self.pool_k, self.pool_v = nn.Linear(dim, dim), nn.Linear(dim, dim)
            self.pool_block = _Block(dim)

    def forward(self, x: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
        """(N, D) shared or (B, N, D) per-sample members, (B, N) removed → (B, D) float32.

        Always in float32, whatever autocast is active: a perturbation moves the pooling of
        thousands of members by a small amount, which half precision rounds away.
        """
        with torch.autocast(x.device.type, enabled=False):
            return self._pool(x.float(), removed)

    def _pool(self, x: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
        summary = self.summary(x, removed)  # (B, seeds, D)
        if self.mode == "pma":
            return summary[:, 0]
        batch = removed.shape[0]
        members = x.expand(batch, -1, -1) if x.dim() == 2 else x
        attended = masked_attention(self.q(members), self.k(summary), self.v(summary), self.heads)
        members = self.member_block(members, attended)
        seed = self.seed.expand(batch, -1, -1)
        pooled = masked_attention(
            seed, self.pool_k(members), self.pool_v(members), self.heads, mask=removed
        )
        return self.pool_block(seed, pooled)[:, 0]
