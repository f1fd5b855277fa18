"""Split rules on synthetic genotypes: the held-out splits never leak into training."""

from __future__ import annotations

import itertools
import random

from torchcell.cell import splits

RNG = random.Random(0)
GENOTYPES = [sorted(RNG.sample(range(60), RNG.choice([1, 2, 3]))) for _ in range(800)]


def test_held_out_genes_never_train_on_a_test_gene():
    parts = splits.held_out_genes(GENOTYPES, 0.15, 0.15, seed=4)
    train = {g for i in parts["train"].tolist() for g in GENOTYPES[i]}
    assert all(set(GENOTYPES[i]) - train for i in parts["test"].tolist())
    assert all(set(GENOTYPES[i]) - train for i in parts["val"].tolist())
    assert sum(len(v) for v in parts.values()) == len(GENOTYPES)


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
