"""``CellDataModule``: dataset + split + label standardization + loaders, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple

import lightning as L
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


class CellDataModule(L.LightningDataModule):
    """A materialized dataset, its train/val/test split, the training split's label
    standardization and the loaders, for ``trainer.fit(module, datamodule=...)``.

    ``setup()`` (Lightning calls it; so does reading ``dataset``, ``indices``, ``y`` or any
    other of its results) opens the dataset and splits it, once.
    """

    _LOADED = ("dataset", "ids", "genotypes", "samples", "indices", "y", "standardizer")

    def __init__(
        self,
        root: Path,
        split: SplitName = "held_out_genes",
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        batch_size: int = 32,
        seed: int = 0,
        shuffle_seed: int = 0,
        num_workers: int = 0,
        test_seed: int = splits.TEST_SEED,
        processor: object = None,
        val_datasets: Sequence[str] = (),
        test_datasets: Sequence[str] = (),
    ):
        """``seed``: of the split's validation part; ``test_seed``: of its (locked) test part
        (``torchcell.cell.splits``); ``shuffle_seed``: of the training loader's shuffling; ``val_datasets``/``test_datasets``: the ``by_dataset`` split's parts."""
        super().__init__()
        self.root, self.split, self.processor = Path(root), split, processor
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.batch_size, self.seed, self.shuffle_seed = batch_size, seed, shuffle_seed
        self.num_workers, self.test_seed = num_workers, test_seed
        self.val_datasets, self.test_datasets = list(val_datasets), list(test_datasets)
        self._ready = False

    def __getattr__(self, name: str):
        if name in CellDataModule._LOADED and not self.__dict__.get("_ready", True):
            self.setup()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def setup(self, stage: str | None = None) -> None:
        if self._ready:
            return
        self._ready = True
        self.dataset = CellDataset(self.root, self.processor)
        records = list(self.dataset.records())
        self.ids = [r.id for r in records]
        """Every sample's experiment id, in dataset order."""
        self.genotypes = [r.genes for r in records]
        self.samples = [Genotype(r.genes, r.kinds, r.environment, r.alleles) for r in records]
        """Genes, allele kinds and environment of every sample (what the baselines read)."""
        if self.split == "random":
            self.indices = splits.random_split(
                [s.key()[0] for s in self.samples],
                self.val_fraction,
                self.test_fraction,
                self.seed,
                self.test_seed,
            )
        elif self.split == "held_out_genes":
            self.indices = splits.held_out_genes(
                self.genotypes, self.val_fraction, self.test_fraction, self.seed, self.test_seed
            )
        elif self.split == "held_out_pairs":
            self.indices = splits.held_out_pairs(
                self.genotypes, self.val_fraction, self.test_fraction, self.seed, self.test_seed
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

    def train_dataloader(self):
        return self.loader("train")

    def val_dataloader(self):
        return self.loader("val", shuffle=False)

    def test_dataloader(self):
        return self.loader("test", shuffle=False)

    def predict_dataloader(self):
        return self.loader("all", shuffle=False)

    def clusters(self, part: str = "test") -> list[list[int]] | None:
        """Per sample of ``part``, the units its split holds out, for a cluster bootstrap
        (``torchcell.train.metrics``): under held_out_genes its genes that no training sample
        perturbs, under held_out_pairs all its genes (a two-way bootstrap over the genes on
        both sides); None for random and by_dataset splits (samples resampled as they are)."""
        indices = self.part(part)
        if self.split == "held_out_pairs":
            return [list(self.genotypes[i]) for i in indices]
        if self.split != "held_out_genes":
            return None
        seen = {g for i in self.indices["train"].tolist() for g in self.genotypes[i]}
        return [[g for g in self.genotypes[i] if g not in seen] for i in indices]

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
