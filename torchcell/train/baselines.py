"""Baselines every evaluation is printed beside.

* ``MeanBaseline``: the training mean of each label.
* ``MultiplicativeBaseline``: for multi-gene mutants, fitness f = Π f_i of the single mutants'
  fitness measured in the training data (so the predicted interaction ε is 0); samples with
  an unmeasured single mutant get the training mean.
* ``AdditiveRidge``: ridge regression of each label on one-hot gene identity (plus an
  intercept); a model that knows genes, not biology.

Each has ``fit(genotypes, y)`` and ``predict(genotypes) -> (n, L)``; genotypes are lists of
gene indices, y is (n, L) with NaN where a label was not measured.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def _nanmean(y: torch.Tensor) -> torch.Tensor:
    return torch.nan_to_num(torch.nanmean(y, dim=0), nan=0.0)


class MeanBaseline:
    name = "mean"

    def fit(self, genotypes: Sequence[Sequence[int]], y: torch.Tensor) -> MeanBaseline:
        self.mean = _nanmean(y)
        return self

    def predict(self, genotypes: Sequence[Sequence[int]]) -> torch.Tensor:
        return self.mean.expand(len(genotypes), -1).clone()


class MultiplicativeBaseline:
    name = "multiplicative"

    def __init__(self, labels: list[str]):
        self.labels = labels

    def fit(self, genotypes: Sequence[Sequence[int]], y: torch.Tensor) -> MultiplicativeBaseline:
        self.mean = _nanmean(y)
        column = self.labels.index("fitness")
        single: dict[int, list[float]] = {}
        for genes, row in zip(genotypes, y.tolist(), strict=True):
            if len(genes) == 1 and row[column] == row[column]:  # not NaN
                single.setdefault(genes[0], []).append(row[column])
        self.single = {g: sum(v) / len(v) for g, v in single.items()}
        return self

    def predict(self, genotypes: Sequence[Sequence[int]]) -> torch.Tensor:
        out = self.mean.expand(len(genotypes), -1).clone()
        for i, genes in enumerate(genotypes):
            if all(g in self.single for g in genes):
                product = 1.0
                for g in genes:
                    product *= self.single[g]
                out[i, self.labels.index("fitness")] = product
                if "gene_interaction" in self.labels and len(genes) > 1:
                    out[i, self.labels.index("gene_interaction")] = 0.0
        return out


class AdditiveRidge:
    name = "additive ridge"

    def __init__(self, num_genes: int, alpha: float = 1.0):
        self.num_genes, self.alpha = num_genes, alpha

    def _design(self, genotypes: Sequence[Sequence[int]]) -> torch.Tensor:
        x = torch.zeros(len(genotypes), self.num_genes + 1, dtype=torch.float64)
        x[:, -1] = 1.0  # intercept
        for i, genes in enumerate(genotypes):
            x[i, list(genes)] = 1.0
        return x

    def fit(self, genotypes: Sequence[Sequence[int]], y: torch.Tensor) -> AdditiveRidge:
        x = self._design(genotypes)
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

    def predict(self, genotypes: Sequence[Sequence[int]]) -> torch.Tensor:
        return (self._design(genotypes) @ self.weights).float()


ALL_SINGLES = "multiplicative (all singles)"


def baseline_metrics(data, columns: list[int], labels: list[str]) -> dict:
    """The baselines fitted on the training split of a ``CellDataModule``, scored on val/test.

    ``multiplicative (all singles)`` is a reference, not a competitor: it reads the single
    mutants' fitness from every split, test included, so on held-out genes it knows what no
    trained model can (the measured fitness of the held-out genes' single mutants).
    """
    from torchcell.train.metrics import metrics_by_size, regression_metrics

    y = data.y[:, columns]
    genotypes = data.genotypes
    part = {k: v.tolist() for k, v in data.indices.items()}
    singles = [i for i, g in enumerate(genotypes) if len(g) == 1]
    fitted = [
        (model, part["train"])
        for model in (
            MeanBaseline(),
            MultiplicativeBaseline(labels),
            AdditiveRidge(data.dataset.num_genes),
        )
    ]
    if "fitness" in labels:
        oracle = MultiplicativeBaseline(labels)
        oracle.name = ALL_SINGLES
        fitted.append((oracle, sorted(set(part["train"]) | set(singles))))
    out = {}
    for model, rows in fitted:
        model.fit([genotypes[i] for i in rows], y[rows])
        out[model.name] = {}
        for split in ("val", "test"):
            pred = model.predict([genotypes[i] for i in part[split]])
            out[model.name][split] = regression_metrics(pred, y[part[split]], labels)
        sizes = torch.tensor([len(genotypes[i]) for i in part["test"]])
        out[model.name]["test_by_size"] = metrics_by_size(pred, y[part["test"]], sizes, labels)
    return out
