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


def random_split(n: int, val: float, test: float, seed: int) -> Split:
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val, n_test = round(n * val), round(n * test)
    return {
        "train": perm[n_val + n_test :].sort().values,
        "val": perm[:n_val].sort().values,
        "test": perm[n_val : n_val + n_test].sort().values,
    }


def held_out_genes(genotypes: Sequence[Sequence[int]], val: float, test: float, seed: int) -> Split:
    genes = sorted({g for genotype in genotypes for g in genotype})
    random.Random(seed).shuffle(genes)
    n_test, n_val = round(len(genes) * test), round(len(genes) * val)
    test_genes, val_genes = set(genes[:n_test]), set(genes[n_test : n_test + n_val])
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for i, genotype in enumerate(genotypes):
        present = set(genotype)
        parts["test" if present & test_genes else "val" if present & val_genes else "train"].append(
            i
        )
    return {k: _tensor(v) for k, v in parts.items()}


def held_out_pairs(genotypes: Sequence[Sequence[int]], val: float, test: float, seed: int) -> Split:
    def pairs(genotype: Sequence[int]) -> set[tuple[int, int]]:
        return set(itertools.combinations(sorted(set(genotype)), 2))

    every = sorted({p for genotype in genotypes for p in pairs(genotype)})
    random.Random(seed).shuffle(every)
    n_test, n_val = round(len(every) * test), round(len(every) * val)
    test_pairs, val_pairs = set(every[:n_test]), set(every[n_test : n_test + n_val])
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for i, genotype in enumerate(genotypes):
        own = pairs(genotype)
        parts["test" if own & test_pairs else "val" if own & val_pairs else "train"].append(i)
    return {k: _tensor(v) for k, v in parts.items()}


def by_dataset(datasets: Sequence[int], val: set[int], test: set[int]) -> Split:
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for i, d in enumerate(datasets):
        parts["test" if d in test else "val" if d in val else "train"].append(i)
    return {k: _tensor(v) for k, v in parts.items()}
