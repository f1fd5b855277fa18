"""Train/val/test splits over a dataset's genotypes.

Random splits leak: the same genes (and gene pairs) appear on both sides, and a model that only
memorizes genes scores as well as a real one. The held-out splits are the ones that matter:

* ``held_out_genes``: test (and val) samples contain a held-out gene; no training sample
  contains any test or val gene.
* ``held_out_pairs``: test (and val) samples contain a held-out gene pair; no training sample
  has a test or val pair together (single mutants always train).
* ``by_dataset``: whole datasets for val and test.

Each returns {"train", "val", "test"} index tensors that partition the samples they use.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import torch

Split = dict[str, torch.Tensor]


def _tensor(indices: list[int]) -> torch.Tensor:
    return torch.tensor(sorted(indices), dtype=torch.long)


def random_split(genotypes: Sequence, val: float, test: float, seed: int) -> Split:
    """Random fractions of the *genotypes* (hashable keys, one per sample): replicates of one
    genotype (kept apart by ``replicates: keep_all``) always land in the same part."""
    unique = sorted(set(genotypes), key=repr)
    perm = torch.randperm(len(unique), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val, n_test = round(len(unique) * val), round(len(unique) * test)
    part = {unique[j]: "val" for j in perm[:n_val]}
    part.update({unique[j]: "test" for j in perm[n_val : n_val + n_test]})
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for i, genotype in enumerate(genotypes):
        parts[part.get(genotype, "train")].append(i)
    return {k: _tensor(v) for k, v in parts.items()}


def _assign(keys: Sequence[set], val_keys: set, test_keys: set) -> Split:
    """A sample goes to test if it has a test key, else to val if it has a val key, else train."""
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for i, own in enumerate(keys):
        parts["test" if own & test_keys else "val" if own & val_keys else "train"].append(i)
    return {k: _tensor(v) for k, v in parts.items()}


def _held_out(keys: Sequence[set], val: float, test: float, seed: int) -> Split:
    """Hold out random fractions of all keys (genes or gene pairs) for test and val."""
    every = sorted(set().union(*keys))
    random.Random(seed).shuffle(every)
    n_test, n_val = round(len(every) * test), round(len(every) * val)
    return _assign(keys, set(every[n_test : n_test + n_val]), set(every[:n_test]))


def held_out_genes(genotypes: Sequence[Sequence[int]], val: float, test: float, seed: int) -> Split:
    return _held_out([set(genotype) for genotype in genotypes], val, test, seed)


def held_out_pairs(genotypes: Sequence[Sequence[int]], val: float, test: float, seed: int) -> Split:
    pairs = [set(itertools.combinations(sorted(set(genotype)), 2)) for genotype in genotypes]
    return _held_out(pairs, val, test, seed)


def by_dataset(datasets: Sequence[int], val: set[int], test: set[int]) -> Split:
    return _assign([{d} for d in datasets], val, test)
