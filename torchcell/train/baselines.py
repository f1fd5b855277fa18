"""Baselines every evaluation is printed beside.

* ``MeanBaseline``: the training mean of each label.
* ``MultiplicativeBaseline``: for multi-gene mutants, fitness f = Π f_i of the single mutants'
  fitness measured in the training data (so the predicted interaction ε is 0). A single is
  matched on gene, allele and environment (``cdc24-3`` at 26 °C is neither ``cdc24-11`` nor
  the deletion at 30 °C), falling back to gene and allele, then gene and kind, then gene;
  samples with an unmeasured single mutant get the training mean.
* ``AdditiveRidge``: ridge regression of each label on one-hot gene identity (plus an
  intercept); a model that knows genes, not biology.

Each has ``fit(samples, y)`` and ``predict(samples) -> (n, L)``; samples are ``Genotype``s
(gene indices, allele kinds, environment), y is (n, L) with NaN where a label was not measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from torchcell.cell.datamodule import Genotype


def _nanmean(y: torch.Tensor) -> torch.Tensor:
    return torch.nan_to_num(torch.nanmean(y, dim=0), nan=0.0)


class MeanBaseline:
    name = "mean"

    def fit(self, samples: Sequence[Genotype], y: torch.Tensor) -> MeanBaseline:
        self.mean = _nanmean(y)
        return self

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        return self.mean.expand(len(samples), -1).clone()


class MultiplicativeBaseline:
    name = "multiplicative"

    def __init__(self, labels: list[str]):
        self.labels = labels

    @staticmethod
    def _keys(sample: Genotype, i: int) -> tuple:
        """The single mutant to look up for gene i, most specific first."""
        gene, kind = sample.genes[i], sample.kinds[i]
        allele = sample.alleles[i] if sample.alleles else ""
        return (
            ("allele", gene, kind, allele, sample.environment),
            ("allele", gene, kind, allele),
            ("kind", gene, kind),
            ("gene", gene),
        )

    def fit(self, samples: Sequence[Genotype], y: torch.Tensor) -> MultiplicativeBaseline:
        self.mean = _nanmean(y)
        column = self.labels.index("fitness")
        single: dict[tuple, list[float]] = {}
        for sample, row in zip(samples, y.tolist(), strict=True):
            if len(sample.genes) == 1 and row[column] == row[column]:  # not NaN
                for key in self._keys(sample, 0):
                    single.setdefault(key, []).append(row[column])
        self.single = {k: sum(v) / len(v) for k, v in single.items()}
        return self

    def _single(self, sample: Genotype, i: int) -> float | None:
        return next((self.single[k] for k in self._keys(sample, i) if k in self.single), None)

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        out = self.mean.expand(len(samples), -1).clone()
        for row, sample in enumerate(samples):
            fitness = [self._single(sample, i) for i in range(len(sample.genes))]
            if None in fitness:
                continue
            out[row, self.labels.index("fitness")] = math.prod(fitness)
            if "gene_interaction" in self.labels and len(fitness) > 1:
                out[row, self.labels.index("gene_interaction")] = 0.0
        return out


class AdditiveRidge:
    name = "additive ridge"

    def __init__(self, num_genes: int, alpha: float = 1.0):
        self.num_genes, self.alpha = num_genes, alpha

    def _design(self, samples: Sequence[Genotype]) -> torch.Tensor:
        x = torch.zeros(len(samples), self.num_genes + 1, dtype=torch.float64)
        x[:, -1] = 1.0  # intercept
        for i, sample in enumerate(samples):
            x[i, list(sample.genes)] = 1.0
        return x

    def fit(self, samples: Sequence[Genotype], y: torch.Tensor) -> AdditiveRidge:
        x = self._design(samples)
        penalty = self.alpha * torch.eye(x.shape[1], dtype=torch.float64)
        penalty[-1, -1] = 0.0  # the intercept is not shrunk
        self.weights = torch.zeros(x.shape[1], y.shape[1], dtype=torch.float64)
        for j in range(y.shape[1]):
            keep = ~torch.isnan(y[:, j])
            if not keep.any():
                continue  # a label never measured in training: predict 0
            xk, yk = x[keep], y[keep, j].double()
            self.weights[:, j] = torch.linalg.solve(xk.T @ xk + penalty, xk.T @ yk)
        return self

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        return (self._design(samples) @ self.weights).float()


ALL_SINGLES = "multiplicative (all singles)"


def baseline_metrics(data, columns: list[int], labels: list[str]) -> dict:
    """The baselines fitted on the training split of a ``CellDataModule``, scored on val/test.

    ``multiplicative (all singles)`` is a reference, not a competitor: it reads the single
    mutants' fitness from every split, test included, so on held-out genes it knows what no
    trained model can (the measured fitness of the held-out genes' single mutants).
    """
    from torchcell.train.metrics import metrics_by_size, regression_metrics

    y = data.y[:, columns]
    samples = data.samples
    part = {k: v.tolist() for k, v in data.indices.items()}
    singles = [i for i, s in enumerate(samples) if len(s.genes) == 1]
    models = [MeanBaseline(), AdditiveRidge(data.dataset.num_genes)]
    if "fitness" in labels:  # the multiplicative null predicts fitness (and ε = 0) from singles
        models.insert(1, MultiplicativeBaseline(labels))
    fitted = [(model, part["train"]) for model in models]
    if "fitness" in labels:
        oracle = MultiplicativeBaseline(labels)
        oracle.name = ALL_SINGLES
        fitted.append((oracle, sorted(set(part["train"]) | set(singles))))
    out = {}
    for model, rows in fitted:
        model.fit([samples[i] for i in rows], y[rows])
        out[model.name] = {}
        for split in ("val", "test"):
            pred = model.predict([samples[i] for i in part[split]])
            out[model.name][split] = regression_metrics(pred, y[part[split]], labels)
        sizes = torch.tensor([len(samples[i].genes) for i in part["test"]])
        out[model.name]["test_by_size"] = metrics_by_size(pred, y[part["test"]], sizes, labels)
    return out
