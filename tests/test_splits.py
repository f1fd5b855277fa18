"""Split rules on synthetic genotypes: the held-out splits never leak into training."""

from __future__ import annotations

import itertools
import random

import torch

from torchcell.cell import splits

RNG = random.Random(0)
GENOTYPES = [sorted(RNG.sample(range(60), RNG.choice([1, 2, 3]))) for _ in range(800)]


def test_held_out_genes_never_train_on_a_test_gene():
    parts = splits.held_out_genes(GENOTYPES, 0.15, 0.15, seed=4)
    train = {g for i in parts["train"].tolist() for g in GENOTYPES[i]}
    assert all(set(GENOTYPES[i]) - train for i in parts["test"].tolist())
    assert all(set(GENOTYPES[i]) - train for i in parts["val"].tolist())
    used = sorted(i for v in parts.values() for i in v.tolist())
    assert used == list(range(len(GENOTYPES)))  # a partition


def test_the_test_part_is_locked_across_split_seeds():
    """Split seeds redraw training and validation; the test part stays (test_seed)."""
    for split in (splits.held_out_genes, splits.held_out_pairs):
        first, second = (split(GENOTYPES, 0.15, 0.15, seed=s) for s in (0, 1))
        assert torch.equal(first["test"], second["test"])
        assert not torch.equal(first["val"], second["val"])
        assert set(first["val"].tolist()).isdisjoint(first["test"].tolist())
        other = split(GENOTYPES, 0.15, 0.15, seed=0, test_seed=splits.TEST_SEED + 1)
        assert not torch.equal(other["test"], first["test"])
    keys = [i // 2 for i in range(200)]
    a, b = (splits.random_split(keys, 0.1, 0.2, seed=s) for s in (0, 1))
    assert torch.equal(a["test"], b["test"]) and not torch.equal(a["val"], b["val"])


def test_held_out_pairs_never_train_on_a_test_pair_and_keep_singles_in_training():
    parts = splits.held_out_pairs(GENOTYPES, 0.15, 0.15, seed=4)

    def pairs(i):
        return set(itertools.combinations(GENOTYPES[i], 2))

    train = set().union(*(pairs(i) for i in parts["train"].tolist()))
    assert all(pairs(i) - train for i in parts["test"].tolist())
    singles = {i for i, g in enumerate(GENOTYPES) if len(g) == 1}
    assert singles <= set(parts["train"].tolist())


def test_by_dataset_and_random():
    datasets = [i % 3 for i in range(30)]
    parts = splits.by_dataset(datasets, val={1}, test={2})
    assert {datasets[i] for i in parts["test"].tolist()} == {2}
    assert {datasets[i] for i in parts["val"].tolist()} == {1}
    shuffled = splits.random_split(list(range(100)), 0.1, 0.2, seed=0)
    assert [len(shuffled[k]) for k in ("train", "val", "test")] == [70, 10, 20]
    assert len(set().union(*(set(v.tolist()) for v in shuffled.values()))) == 100
    replicated = splits.random_split([i // 2 for i in range(100)], 0.1, 0.2, seed=0)
    for part in replicated.values():
        genotypes = [i // 2 for i in part.tolist()]
        assert all(genotypes.count(g) == 2 for g in genotypes), "replicates split apart"
