"""Set aggregation over the genes (or reactions) that remain in each perturbed cell.

``CellSetPool`` is Set-Transformer pooling (Lee et al., 2019) over the wildtype members minus
each sample's removed ones, computed without copying the set per sample:

* ``pma``: learnable seeds attend over the set (pooling by multihead attention). The scores
  of the wildtype members are the same in every sample, so the softmax sums are computed once
  over the whole set, and each sample subtracts the terms of its removed members: the cost is
  one pass over the set per batch plus one term per deletion.
* ``isab``: inducing points first summarize the remaining set (the same subtraction), every
  member then attends to its sample's summary, and a PMA over the members (explicitly masked)
  pools the result. Costs B × N × inducing points; more expressive, slower.
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


class SubtractivePMA(nn.Module):
    """``seeds`` queries attend over a wildtype set with per-sample removals (see module doc)."""

    def __init__(self, dim: int, heads: int = 4, seeds: int = 1):
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden size {dim} is not divisible by {heads} heads")
        self.heads, self.seeds = heads, seeds
        self.seed = nn.Parameter(torch.randn(seeds, dim) / math.sqrt(dim))
        self.q, self.k, self.v = (nn.Linear(dim, dim) for _ in range(3))
        self.block = _Block(dim)

    def forward(self, x: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
        """``x``: (N, D) wildtype members; ``removed``: (B, N) bool. Returns (B, seeds, D)."""
        n, dim = x.shape
        batch, h, d = removed.shape[0], self.heads, dim // self.heads
        if n == 0:  # e.g. a cell graph without a metabolic model
            return self.block(self.seed.expand(batch, -1, -1), x.new_zeros(batch, self.seeds, dim))
        q = self.q(self.seed).view(self.seeds, h, d)
        k, v = self.k(x).view(n, h, d), self.v(x).view(n, h, d)
        score = torch.einsum("mhd,nhd->hmn", q, k) / math.sqrt(d)
        weight = torch.exp(score - score.amax(dim=-1, keepdim=True))
        numerator = torch.einsum("hmn,nhd->hmd", weight, v)
        denominator = weight.sum(dim=-1)
        sample, member = removed.nonzero(as_tuple=True)
        w = weight[:, :, member].permute(2, 0, 1)  # (K, h, m)
        lost_num = x.new_zeros(batch, h, self.seeds, d).index_add_(
            0, sample, w[..., None] * v[member][:, :, None, :]
        )
        lost_den = x.new_zeros(batch, h, self.seeds).index_add_(0, sample, w)
        pooled = (numerator - lost_num) / (denominator - lost_den).clamp_min(1e-12)[..., None]
        attended = pooled.permute(0, 2, 1, 3).reshape(batch, self.seeds, dim)
        return self.block(self.seed.expand(batch, -1, -1), attended)


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
        self.summary = SubtractivePMA(dim, heads, seeds=inducing if mode == "isab" else 1)
        if mode == "isab":
            self.q, self.k, self.v = (nn.Linear(dim, dim) for _ in range(3))
            self.member_block = _Block(dim)
            self.seed = nn.Parameter(torch.randn(1, dim) / math.sqrt(dim))
            self.pool_k, self.pool_v = nn.Linear(dim, dim), nn.Linear(dim, dim)
            self.pool_block = _Block(dim)

    def forward(self, x: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
        """(N, D) members, (B, N) removed → (B, D) one vector per perturbed cell."""
        summary = self.summary(x, removed)  # (B, seeds, D)
        if self.mode == "pma":
            return summary[:, 0]
        batch = removed.shape[0]
        members = x.expand(batch, -1, -1)
        attended = masked_attention(self.q(members), self.k(summary), self.v(summary), self.heads)
        members = self.member_block(members, attended)
        seed = self.seed.expand(batch, -1, -1)
        pooled = masked_attention(
            seed, self.pool_k(members), self.pool_v(members), self.heads, mask=removed
        )
        return self.pool_block(seed, pooled)[:, 0]
