"""``CellDataModule``: dataset + split + label standardization + loaders, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import torch
from torch.utils.data import DataLoader as TorchDataLoader
from torch_geometric.loader import DataLoader

from torchcell.cell import splits
from torchcell.cell.dataset import CellDataset
from torchcell.cell.transforms import LabelStandardizer


class Genotype(NamedTuple):
    """What a sample perturbs: gene indices, their allele kinds and allele names (``""`` for a
    deletion), and the environment index: the fields of ``torchcell.schema.genotype_key``."""

    genes: Sequence[int]
    kinds: Sequence[int] = ()
    environment: int = 0
    alleles: Sequence[str] = ()

    def key(self) -> tuple:
        """The genotype identity: sorted (gene, kind, allele) triples and the environment."""
        alleles = self.alleles or [""] * len(self.genes)
        return (tuple(sorted(zip(self.genes, self.kinds, alleles, strict=True))), self.environment)


SplitName = Literal["random", "held_out_genes", "held_out_pairs", "by_dataset"]


@dataclass
class CellDataModule:
    root: Path
    split: SplitName = "held_out_genes"
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    batch_size: int = 32
    seed: int = 0
    """Of the split (train/val/test)."""
    shuffle_seed: int = 0
    """Of the training loader's shuffling."""
    num_workers: int = 0
    processor: object = None
    val_datasets: list[str] = field(default_factory=list)
    test_datasets: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.dataset = CellDataset(self.root, self.processor)
        records = list(self.dataset.records())
        self.genotypes = [r.genes for r in records]
        self.samples = [Genotype(r.genes, r.kinds, r.environment, r.alleles) for r in records]
        """Genes, allele kinds and environment of every sample (what the baselines read)."""
        if self.split == "random":
            self.indices = splits.random_split(
                [s.key() for s in self.samples], self.val_fraction, self.test_fraction, self.seed
            )
        elif self.split == "held_out_genes":
            self.indices = splits.held_out_genes(
                self.genotypes, self.val_fraction, self.test_fraction, self.seed
            )
        elif self.split == "held_out_pairs":
            self.indices = splits.held_out_pairs(
                self.genotypes, self.val_fraction, self.test_fraction, self.seed
            )
        else:
            names = self.dataset.manifest.spec["datasets"]
            self.indices = splits.by_dataset(
                [r.dataset for r in records],
                {names.index(d) for d in self.val_datasets},
                {names.index(d) for d in self.test_datasets},
            )
        nan = float("nan")
        self.y = torch.tensor(
            [[nan if v is None else v for v in r.labels] for r in records], dtype=torch.float32
        ).reshape(-1, len(self.dataset.labels))
        """Every sample's labels (n, L), NaN where not measured; for baselines and statistics."""
        self.standardizer = LabelStandardizer.fit(
            self.dataset.labels, self.y[self.indices["train"]]
        )

    def part(self, name: str) -> list[int]:
        """Sample indices of a split part, or of every sample for ``"all"``."""
        return list(range(len(self.genotypes))) if name == "all" else self.indices[name].tolist()

    def loader(self, part: str, shuffle: bool | None = None):
        """Batches of one split part (or ``"all"``); processors with a ``collate`` batch
        straight from records."""
        shuffle = (part == "train") if shuffle is None else shuffle
        options = {
            "batch_size": self.batch_size,
            "shuffle": shuffle,
            "num_workers": self.num_workers,
            "generator": torch.Generator().manual_seed(self.shuffle_seed),
        }
        collate = getattr(self.dataset.processor, "collate", None)
        if collate is not None:
            return TorchDataLoader(
                self.dataset.record_view(self.part(part)), collate_fn=collate, **options
            )
        return DataLoader(self.dataset[self.part(part)], **options)
