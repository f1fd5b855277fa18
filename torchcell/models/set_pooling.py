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
from typing import Literal, NamedTuple

import torch
from torch import nn


class Changed(NamedTuple):
    """Rows of a batch that differ from a shared set: keys sample · N + member, sorted."""

    keys: torch.Tensor
    values: torch.Tensor


def dense_members(x: torch.Tensor, changed: Changed, batch: int) -> torch.Tensor:
    """(B, N, D): the shared (N, D) set for every sample, with its changed rows."""
    flat = x.expand(batch, -1, -1).reshape(batch * x.shape[0], x.shape[1])
    return flat.index_put((changed.keys,), changed.values).view(batch, *x.shape)


def _per_sample_sum(sample: torch.Tensor, weight: torch.Tensor, x: torch.Tensor, batch: int):
    """(B, W, D): Σ over the rows of each sample of weight (K, W) ⊗ x (K, D), ``sample`` sorted;
    as one batched product over the rows padded to the longest sample."""
    if not sample.numel():  # no sample has a changed row (e.g. a graph without edges)
        return x.new_zeros(batch, weight.shape[1], x.shape[1])
    count = torch.bincount(sample, minlength=batch)
    longest = int(count.max())
    first = torch.cumsum(count, 0) - count
    slot = sample * longest + torch.arange(sample.numel(), device=sample.device) - first[sample]
    padded_x = x.new_zeros(batch * longest, x.shape[1]).index_put((slot,), x)
    padded_w = weight.new_zeros(batch * longest, weight.shape[1]).index_put((slot,), weight)
    return torch.bmm(
        padded_w.view(batch, longest, -1).transpose(1, 2), padded_x.view(batch, longest, -1)
    )


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

    def forward(
        self, x: torch.Tensor, removed: torch.Tensor, changed: Changed | None = None
    ) -> torch.Tensor:
        """``x``: (N, D) members shared by every sample, or (B, N, D) one set per sample;
        ``removed``: (B, N) bool; ``changed``: rows of the samples that differ from the shared
        ``x`` (keys sample · N + member, sorted, and their states). Returns (B, seeds, D)."""
        n, dim = x.shape[-2:]
        batch, h, d, m = removed.shape[0], self.heads, dim // self.heads, self.seeds
        seed = self.seed.expand(batch, -1, -1)
        if n == 0:  # e.g. a cell graph without a metabolic model
            return self.block(seed, x.new_zeros(batch, m, dim))
        # the key and value maps folded around the sums: a seed's score of member x is
        # (W_kᵀ q) · x + q · b_k, and Σ w · (W_v x + b_v) = W_v (Σ w x) + b_v Σ w, so the set
        # costs heads × D per member instead of two D × D products
        q = self.q(self.seed).view(m, h, d) / math.sqrt(d)
        key = torch.einsum("mhd,hdf->mhf", q, self.k.weight.view(h, d, dim))
        offset = torch.einsum("mhd,hd->mh", q, self.k.bias.view(h, d))
        if x.dim() == 3:
            score = torch.einsum("mhf,bnf->bnmh", key, x)
        else:
            score = torch.einsum("mhf,nf->nmh", key, x)[None]
            if changed is not None:  # the shared scores, with the changed rows' own
                score = score.expand(batch, -1, -1, -1).reshape(batch * n, m, h)
                own = torch.einsum("mhf,kf->kmh", key, changed.values)
                score = score.index_put((changed.keys,), own).view(batch, n, m, h)
        score = (score + offset).masked_fill(removed[:, :, None, None], float("-inf"))
        # a sample with every member removed attends to nothing (0), not NaN
        weight = torch.softmax(score, dim=1).nan_to_num(0.0)  # (B, N, m, h)
        if x.dim() == 2:  # one (B·m·h, N) × (N, D) product, the shared set not copied per sample
            by_seed = weight.permute(0, 2, 3, 1).reshape(batch * m * h, n)
            summed = (by_seed @ x).view(batch, m, h, dim)
        else:
            summed = torch.einsum("bnmh,bnf->bmhf", weight, x)  # (B, m, h, D)
        if changed is not None:  # + Σ over changed rows of weight · (own − shared state)
            own_weight = weight.reshape(batch * n, m * h)[changed.keys]
            diff = changed.values - x[changed.keys % n]
            summed = summed + _per_sample_sum(changed.keys // n, own_weight, diff, batch).view(
                batch, m, h, dim
            )
        attended = torch.einsum("bmhf,hdf->bmhd", summed, self.v.weight.view(h, d, dim))
        attended = attended + weight.sum(1)[..., None] * self.v.bias.view(h, d)
        return self.block(seed, attended.reshape(batch, m, dim))


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

    def forward(
        self, x: torch.Tensor, removed: torch.Tensor, changed: Changed | None = None
    ) -> torch.Tensor:
        """(N, D) shared or (B, N, D) per-sample members, (B, N) removed → (B, D) float32;
        ``changed``: the rows where a sample's members differ from the shared (N, D) ones.

        Always in float32, whatever autocast is active: a perturbation moves the pooling of
        thousands of members by a small amount, which half precision rounds away.
        """
        with torch.autocast(x.device.type, enabled=False):
            if changed is not None:
                changed = Changed(changed.keys, changed.values.float())
            return self._pool(x.float(), removed, changed)

    def _pool(self, x: torch.Tensor, removed: torch.Tensor, changed: Changed | None):
        batch = removed.shape[0]
        if self.mode == "isab" and changed is not None:  # every member attends: all rows
            x, changed = dense_members(x, changed, batch), None
        summary = self.summary(x, removed, changed)  # (B, seeds, D)
        if self.mode == "pma":
            return summary[:, 0]
        members = x.expand(batch, -1, -1) if x.dim() == 2 else x
        attended = masked_attention(self.q(members), self.k(summary), self.v(summary), self.heads)
        members = self.member_block(members, attended)
        seed = self.seed.expand(batch, -1, -1)
        pooled = masked_attention(
            seed, self.pool_k(members), self.pool_v(members), self.heads, mask=removed
        )
        return self.pool_block(seed, pooled)[:, 0]
