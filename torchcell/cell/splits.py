"""Train/val/test splits over a dataset's genotypes.

Random splits leak: the same genes (and gene pairs) appear on both sides, and a model that only
memorizes genes scores as well as a real one. The held-out splits are the ones that matter:

* ``held_out_genes``: test (and val) samples contain a held-out gene; no training sample
  contains any test or val gene.
* ``held_out_pairs``: test (and val) samples contain a held-out gene pair; no training sample
  has a test or val pair together (single mutants always train).
* ``by_dataset``: whole datasets for val and test.

The test part is **locked**: its keys are drawn with ``test_seed`` (default ``TEST_SEED``)
alone and it holds every sample with a test key, and ``seed`` draws the validation keys from
the rest, so several split seeds (``tc compare --split-seeds``) vary training and validation
around one test part, which is read only for the final scores. (A pair of a test and a
validation gene is a test sample; validation has no such pairs of two unseen genes beside its
own val × val pairs.)

Each returns {"train", "val", "test"} index tensors that partition the samples they use.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import torch

Split = dict[str, torch.Tensor]
TEST_SEED = 1009
"""Draws the test part of every split unless a config names another ``test_seed``."""


def _tensor(indices: list[int]) -> torch.Tensor:
    return torch.tensor(sorted(indices), dtype=torch.long)


def _draw(every: list, val: float, test: float, seed: int, test_seed: int) -> tuple[set, set]:
    """(val keys, test keys): the test fraction of ``every`` drawn by ``test_seed``, then the
    validation fraction of the rest by ``seed``."""
    every = sorted(every, key=repr)
    n_test, n_val = round(len(every) * test), round(len(every) * val)
    random.Random(test_seed).shuffle(every)
    rest = every[n_test:]
    random.Random(seed).shuffle(rest)
    return set(rest[:n_val]), set(every[:n_test])


def random_split(
    genotypes: Sequence, val: float, test: float, seed: int, test_seed: int = TEST_SEED
) -> Split:
    """Random fractions of the *genotypes* (hashable keys, one per sample): replicates of one
    genotype (kept apart by ``replicates: keep_all``) always land in the same part."""
    val_keys, test_keys = _draw(list(set(genotypes)), val, test, seed, test_seed)
    return _assign([{g} for g in genotypes], val_keys, test_keys)


def _assign(keys: Sequence[set], val_keys: set, test_keys: set) -> Split:
    """A sample goes to test if it has a test key, else to val if it has a val key, else train."""
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for i, own in enumerate(keys):
        parts["test" if own & test_keys else "val" if own & val_keys else "train"].append(i)
    return {k: _tensor(v) for k, v in parts.items()}


def _held_out(keys: Sequence[set], val: float, test: float, seed: int, test_seed: int) -> Split:
    """Hold out random fractions of all keys (genes or gene pairs) for test and val."""
    val_keys, test_keys = _draw(list(set().union(*keys)), val, test, seed, test_seed)
    return _assign(keys, val_keys, test_keys)


def held_out_genes(
    genotypes: Sequence[Sequence[int]], val: float, test: float, seed: int,
    test_seed: int = TEST_SEED,
) -> Split:  # fmt: skip
    return _held_out([set(genotype) for genotype in genotypes], val, test, seed, test_seed)


def held_out_pairs(
    genotypes: Sequence[Sequence[int]], val: float, test: float, seed: int,
    test_seed: int = TEST_SEED,
) -> Split:  # fmt: skip
    pairs = [set(itertools.combinations(sorted(set(genotype)), 2)) for genotype in genotypes]
    return _held_out(pairs, val, test, seed, test_seed)


def by_dataset(datasets: Sequence[int], val: set[int], test: set[int]) -> Split:
    return _assign([{d} for d in datasets], val, test)
