"""Baselines every evaluation is printed beside.

* ``MeanBaseline``: the training mean of each label.
* ``MultiplicativeBaseline``: for multi-gene mutants, fitness f = Π f_i of the single mutants'
  fitness measured in the training data (so the predicted interaction ε is 0). A single is
  matched on gene, allele and environment (``cdc24-3`` at 26 °C is neither ``cdc24-11`` nor
  the deletion at 30 °C), falling back to gene and allele, then gene and kind, then gene;
  samples with an unmeasured single mutant get the training mean. For triple mutants it is
  the trigenic null of Kuzmin et al. 2018: f_ijk = f_i f_j f_k + ε_ij f_k + ε_ik f_j + ε_jk f_i,
  with the digenic ε measured in training (matched like singles; 0 where unmeasured), τ = 0.
* ``LowRankPairs``: for double mutants, y_ij = μ + b_i + b_j + u_iᵀ S u_j fitted on the
  training doubles (standardized; S = diag(+1, …, −1, …) half and half, so the form is
  symmetric but indefinite: two similar genes may aggravate each other, which a positive
  semi-definite u_i·u_j cannot say; L2 λ per observed pair; rank and λ chosen on the validation
  doubles): a null that knows each gene from its other pairs but not the pair itself, the
  strong null for held-out pairs. A gene in no training pair has b = 0 and u = 0.
* ``AdditiveRidge``: ridge regression of each label on one-hot gene identity (plus an
  intercept); a model that knows genes, not biology.
* ``FeatureRidge``: ridge regression of each label on the summed per-gene features of the
  mutant's genes (``torchcell.cell.gene_features``: GO membership without IGI, network
  degrees; allele kinds ignored), α chosen on validation: a null that knows what the
  annotations say about a gene, so it speaks for genes training never saw (held-out genes).
* ``GeneNeighbours``: nearest neighbours in GO: a single mutant gets the similarity-weighted
  mean of the singles of its k most GO-similar training genes (cosine of GO membership), a
  double (i, j) that of the training pairs (a, b) with a among i's k neighbours and b among
  j's (weight s(i, a)·s(j, b)); k chosen on validation. Guilt by association, the oldest null
  of gene-function prediction.
* ``GeneBoosting``: gradient-boosted trees (scikit-learn's histogram GBM; the XGBoost-style
  baseline of the Dango paper) on a symmetric encoding of the mutant's genes: the sum of their
  gene vectors, the sum of their pairwise products and the number of genes, a gene's vector
  being the top ``RANK`` singular directions of its gene features (GO, degrees); the number of
  trees by early stopping on a part of the training split.

Each has ``fit(samples, y)`` and ``predict(samples) -> (n, L)``; samples are ``Genotype``s
(gene indices, allele kinds, environment), y is (n, L) with NaN where a label was not measured.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import pickle
from collections.abc import Sequence

import numpy as np
import torch
from scipy import sparse

from torchcell.cell.datamodule import Genotype
from torchcell.cell.gene_features import NULL_FEATURES, gene_features

Part = tuple[Sequence[Genotype], torch.Tensor]
"""One part of a split: its samples and their (n, L) labels."""


def _nanmean(y: torch.Tensor) -> torch.Tensor:
    return torch.nan_to_num(torch.nanmean(y, dim=0), nan=0.0)


def _validation_error(pred: torch.Tensor, truth: torch.Tensor, train_y: torch.Tensor) -> float:
    """MSE in units of each label's training variance, summed over labels: how a null's
    hyperparameter is chosen on validation."""
    spread = torch.nan_to_num(torch.nanmean((train_y - _nanmean(train_y)) ** 2, 0), 1.0)
    residual = (pred - truth) ** 2 / spread.clamp_min(1e-12)
    return float(residual.nanmean(0).nan_to_num().sum())


def _chosen(model, options: list, use, train, val):
    """``model`` with the option of ``options`` (applied by ``use``) that has the lowest
    ``_validation_error``: a null's hyperparameter, never chosen on test."""
    errors = {}
    for option in options:
        use(option)
        errors[option] = _validation_error(model.predict(val[0]), val[1], train[1])
    use(min(errors, key=errors.get))
    return model


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
        epsilon = (
            self.labels.index("gene_interaction") if "gene_interaction" in self.labels else None
        )
        single: dict[tuple, list[float]] = {}
        pair: dict[tuple, list[float]] = {}
        for sample, row in zip(samples, y.tolist(), strict=True):
            if len(sample.genes) == 1 and row[column] == row[column]:  # not NaN
                for key in self._keys(sample, 0):
                    single.setdefault(key, []).append(row[column])
            if len(sample.genes) == 2 and epsilon is not None and row[epsilon] == row[epsilon]:
                for key in self._pair_keys(sample, 0, 1):
                    pair.setdefault(key, []).append(row[epsilon])
        self.single = {k: sum(v) / len(v) for k, v in single.items()}
        self.pair = {k: sum(v) / len(v) for k, v in pair.items()}
        return self

    def _single(self, sample: Genotype, i: int) -> float | None:
        return next((self.single[k] for k in self._keys(sample, i) if k in self.single), None)

    def _pair_keys(self, sample: Genotype, i: int, j: int) -> list[frozenset]:
        """The digenic interaction of genes i and j to look up, most specific first."""
        return [
            frozenset((a, b))
            for a, b in zip(self._keys(sample, i), self._keys(sample, j), strict=True)
        ]

    def _epsilon(self, sample: Genotype, i: int, j: int) -> float:
        return next((self.pair[k] for k in self._pair_keys(sample, i, j) if k in self.pair), 0.0)

    def _fitness(self, sample: Genotype, fitness: list[float]) -> float:
        product = math.prod(fitness)
        if len(fitness) != 3:
            return product
        return product + sum(
            self._epsilon(sample, i, j) * fitness[k]
            for i, j, k in ((0, 1, 2), (0, 2, 1), (1, 2, 0))
        )

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        out = self.mean.expand(len(samples), -1).clone()
        for row, sample in enumerate(samples):
            fitness = [self._single(sample, i) for i in range(len(sample.genes))]
            if None in fitness:
                continue
            out[row, self.labels.index("fitness")] = self._fitness(sample, fitness)
            if "gene_interaction" in self.labels and len(fitness) > 1:
                out[row, self.labels.index("gene_interaction")] = 0.0
        return out


class LowRankPairs:
    name = "low-rank pairs"
    L2_GRID = (1e-3, 1e-2, 1e-1, 1.0)
    RANK_GRID = (8, 32)

    def __init__(self, num_genes: int, rank: int = 8, l2: float = 1e-2, steps: int = 500):
        self.num_genes, self.rank, self.l2, self.steps = num_genes, rank, l2, steps
        signs = [1.0] * (rank - rank // 2) + [-1.0] * (rank // 2)
        self.signs = torch.tensor(signs)[:, None]  # (rank, 1): S, broadcast over labels

    def fit(self, samples: Sequence[Genotype], y: torch.Tensor) -> LowRankPairs:
        """Full-batch Adam on the standardized training doubles; the L2 term is per observed
        pair (λ(b_i² + b_j² + |u_i|² + |u_j|²)): a gene's penalty grows with its pairs as its data
        does, the usual weighting of matrix factorization."""
        (fitted,) = self.fit_grid(self.num_genes, samples, y, [(self.rank, self.l2)], self.steps)
        return fitted

    @classmethod
    def fit_grid(
        cls, num_genes: int, samples: Sequence[Genotype], y: torch.Tensor,
        grid: Sequence[tuple[int, float]], steps: int = 500,
    ) -> list[LowRankPairs]:  # fmt: skip
        """One model per (rank, λ) of ``grid``, fitted side by side: one stacked tensor per
        parameter (the ranks padded with masked columns), one loss that sums the models' own
        losses, so each gets the gradient and Adam steps (element-wise) it would get alone, at
        the cost of one fit."""
        models = [cls(num_genes, rank, l2, steps) for rank, l2 in grid]
        mean = _nanmean(y)
        for model in models:
            model.mean = mean
        doubles = [i for i, s in enumerate(samples) if len(s.genes) == 2]
        if not doubles:
            return models
        pairs = torch.tensor([list(samples[i].genes) for i in doubles])
        target = y[doubles].float()
        seen = ~torch.isnan(target)
        center = torch.nan_to_num(torch.nanmean(target, 0))
        spread = torch.nan_to_num((target - center).pow(2).nanmean(0).sqrt(), nan=1.0)
        scale = torch.where(spread > 0, spread, torch.ones_like(spread))
        z = torch.nan_to_num((target - center) / scale)
        g, width, labels = len(grid), max(rank for rank, _ in grid), y.shape[1]
        genes, local = torch.unique(pairs, return_inverse=True)  # fit only genes in a pair
        n = genes.numel()
        signs = torch.zeros(g, 1, width, 1)  # 0 beyond a model's rank: those columns stay out
        for k, model in enumerate(models):
            signs[k, 0, : model.rank] = model.signs
        l2 = torch.tensor([float(x) for _, x in grid])[:, None, None]
        generator = torch.Generator().manual_seed(0)
        bias = torch.zeros(g, n, labels, requires_grad=True)
        factors = 0.1 * torch.randn(g, n, width, labels, generator=generator)
        factors = (factors * (signs != 0)).requires_grad_()
        optimizer = torch.optim.Adam([bias, factors], lr=0.05)
        a, b = local[:, 0], local[:, 1]
        # the per-pair penalty summed per gene: λ Σ_g (measured pairs of g)(b_g² + |u_g|²)
        pairs_of = (
            torch.zeros(n, labels).index_add_(0, a, seen.float()).index_add_(0, b, seen.float())
        )
        for _ in range(steps):
            score = bias[:, a] + bias[:, b] + (factors[:, a] * signs * factors[:, b]).sum(2)
            fit = ((score - z) ** 2 * seen).sum((1, 2)) / seen.sum()
            size = bias**2 + (factors**2).sum(2)
            penalty = (l2 * size * pairs_of).sum((1, 2)) / seen.sum()
            optimizer.zero_grad()
            (fit + penalty).sum().backward()
            optimizer.step()
        trained = torch.zeros(n, labels, dtype=torch.bool)
        for column in range(labels):  # genes with a measured training pair, per label
            trained[local[seen[:, column]].flatten(), column] = True
        for k, model in enumerate(models):  # every other gene: b = 0, u = 0
            model.center, model.scale = center, scale
            model.bias = torch.zeros(num_genes, labels)
            model.bias[genes] = bias[k].detach() * trained
            model.factors = torch.zeros(num_genes, model.rank, labels)
            model.factors[genes] = factors[k, :, : model.rank].detach() * trained[:, None, :]
        return models

    @classmethod
    def chosen_on_validation(cls, num_genes: int, train: Part, val: Part) -> LowRankPairs:
        """Rank from ``RANK_GRID`` and λ from ``L2_GRID`` by the validation doubles' MSE
        (standardized, summed over labels); the test split is never looked at."""
        grid = list(itertools.product(cls.RANK_GRID, cls.L2_GRID))
        models = cls.fit_grid(num_genes, *train, grid)
        doubles = [i for i, s in enumerate(val[0]) if len(s.genes) == 2]
        if not doubles or not hasattr(models[0], "center"):
            return models[0]
        truth = val[1][doubles]

        def error(model: LowRankPairs) -> float:
            pred = model.predict([val[0][i] for i in doubles])
            return float(((pred - truth) / model.scale).pow(2).nanmean(0).nan_to_num().sum())

        return min(models, key=error)

    def _score(self, pairs, bias, factors) -> torch.Tensor:
        a, b = pairs[:, 0], pairs[:, 1]
        return bias[a] + bias[b] + (factors[a] * self.signs * factors[b]).sum(1)

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        out = self.mean.expand(len(samples), -1).clone()
        doubles = [i for i, s in enumerate(samples) if len(s.genes) == 2]
        if doubles and hasattr(self, "center"):
            pairs = torch.tensor([list(samples[i].genes) for i in doubles])
            z = self._score(pairs, self.bias, self.factors)
            out[doubles] = self.center + self.scale * z
        return out


def _ridge_solve(xtx: torch.Tensor, xty: torch.Tensor, alpha: float) -> torch.Tensor:
    """Ridge weights from the normal equations of a design whose last column is the intercept
    (not shrunk)."""
    penalty = alpha * torch.eye(xtx.shape[0], dtype=torch.float64)
    penalty[-1, -1] = 0.0
    return torch.linalg.solve(xtx + penalty, xty)


class AdditiveRidge:
    name = "additive ridge"

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def _design(self, samples: Sequence[Genotype]) -> torch.Tensor:
        """One-hot columns of the genes seen in training, then the intercept: a gene training
        never saw has weight 0 in the full-genome ridge (no data, shrunk), so it gets no
        column (the solve is over hundreds of genes, not the genome's thousands)."""
        x = torch.zeros(len(samples), len(self.column) + 1, dtype=torch.float64)
        x[:, -1] = 1.0  # intercept
        for i, sample in enumerate(samples):
            x[i, [self.column[g] for g in sample.genes if g in self.column]] = 1.0
        return x

    def fit(self, samples: Sequence[Genotype], y: torch.Tensor) -> AdditiveRidge:
        self.column = {g: k for k, g in enumerate(sorted({g for s in samples for g in s.genes}))}
        x = self._design(samples)
        self.weights = torch.zeros(x.shape[1], y.shape[1], dtype=torch.float64)
        for j in range(y.shape[1]):
            keep = ~torch.isnan(y[:, j])
            if not keep.any():
                continue  # a label never measured in training: predict 0
            xk, yk = x[keep], y[keep, j].double()
            self.weights[:, j] = _ridge_solve(xk.T @ xk, xk.T @ yk, self.alpha)
        return self

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        return (self._design(samples) @ self.weights).float()


ALL_SINGLES = "multiplicative (all singles)"
CEILING = "replicate ceiling"
REFERENCES = (ALL_SINGLES, CEILING)
"""Rows beside the nulls that are not competitors: the all-singles reference reads test
singles; the replicate ceiling is what the true means would score (``metrics.replicate_ceiling``)."""


class FeatureRidge:
    name = "gene-feature ridge"
    ALPHA_GRID = (1.0, 10.0, 100.0, 1000.0)

    def __init__(self, features: torch.Tensor, alpha: float = 100.0):
        self.features, self.alpha = features, alpha

    def _counts(
        self, samples: Sequence[Genotype], column: dict[int, int] | None = None
    ) -> sparse.csr_matrix:
        """Sparse counts of each sample's genes: (n, len(column)) over the genes ``column``
        maps, or (n, num_genes) over all."""
        rows, cols = [], []
        for i, sample in enumerate(samples):
            mapped = list(sample.genes) if column is None else [column[g] for g in sample.genes]
            rows += [i] * len(mapped)
            cols += mapped
        width = self.features.shape[0] if column is None else len(column)
        return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), (len(samples), width))

    def fit(self, samples: Sequence[Genotype], y: torch.Tensor) -> FeatureRidge:
        """Normal equations of X = [counts @ F, 1] per label, built through the sparse gene
        co-occurrence (counts' @ counts) so that X itself (samples × features) never exists;
        then solved for every α of ``ALPHA_GRID`` (``weights_by_alpha``)."""
        genes = sorted({g for s in samples for g in s.genes})  # the gram needs only these
        column = {g: k for k, g in enumerate(genes)}
        f = self.features[genes].double().numpy()
        width = f.shape[1] + 1
        self.weights_by_alpha = {a: torch.zeros(width, y.shape[1], dtype=torch.float64)
                                 for a in self.ALPHA_GRID}  # fmt: skip
        for j in range(y.shape[1]):
            keep = (~torch.isnan(y[:, j])).nonzero().flatten().tolist()
            if not keep:
                continue  # a label never measured in training: predict 0
            counts = self._counts([samples[i] for i in keep], column)
            yk = y[keep, j].double().numpy()
            xtx = np.empty((width, width))
            xtx[:-1, :-1] = f.T @ ((counts.T @ counts) @ f)
            xtx[:-1, -1] = xtx[-1, :-1] = np.asarray(counts.sum(0)).ravel() @ f
            xtx[-1, -1] = len(keep)
            xty = torch.from_numpy(np.append(f.T @ (counts.T @ yk), yk.sum()))
            xtx = torch.from_numpy(xtx)
            for alpha, weights in self.weights_by_alpha.items():
                weights[:, j] = _ridge_solve(xtx, xty, alpha)
        self.weights = self.weights_by_alpha.get(self.alpha)
        if self.weights is None:
            raise ValueError(f"FeatureRidge alpha {self.alpha} is not in {self.ALPHA_GRID}")
        return self

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        """From the features of every gene, those training never saw included."""
        per_gene = (self.features.double() @ self.weights[:-1]).numpy()  # (num_genes, L)
        return (torch.from_numpy(self._counts(samples) @ per_gene) + self.weights[-1]).float()

    @classmethod
    def chosen_on_validation(cls, features: torch.Tensor, train: Part, val: Part) -> FeatureRidge:
        """α from ``ALPHA_GRID`` by the validation MSE (in units of each label's training SD,
        summed over labels); the test split is never looked at."""
        model = cls(features).fit(*train)

        def use(alpha: float) -> None:
            model.alpha, model.weights = alpha, model.weights_by_alpha[alpha]

        return _chosen(model, list(model.weights_by_alpha), use, train, val)


class GeneNeighbours:
    name = "GO neighbours"
    K_GRID = (5, 20, 50)
    CHUNK = 4096  # pairs scored at once: (chunk, k, k) gathers

    def __init__(self, features: torch.Tensor, k: int = 20):
        norm = features.norm(dim=1, keepdim=True)
        self.unit = torch.where(norm > 0, features / norm.clamp_min(1e-12), features)
        self.k = k

    def fit(self, samples: Sequence[Genotype], y: torch.Tensor) -> GeneNeighbours:
        """Per label, the training singles' sums and counts per gene and the training pairs'
        sums and counts per gene pair (dense over the genes in a training pair)."""
        self.mean = _nanmean(y)
        labels = y.shape[1]
        singles = [i for i, s in enumerate(samples) if len(s.genes) == 1]
        doubles = [i for i, s in enumerate(samples) if len(s.genes) == 2]
        self.single_genes = torch.tensor(
            sorted({samples[i].genes[0] for i in singles}), dtype=torch.long
        )
        self.single_sum, self.single_count = self._sums(
            [[samples[i].genes[0]] for i in singles], y[singles], self.single_genes, labels
        )
        self.pair_genes = torch.tensor(
            sorted({g for i in doubles for g in samples[i].genes}), dtype=torch.long
        )
        self.pair_sum, self.pair_count = self._sums(
            [list(samples[i].genes) for i in doubles], y[doubles], self.pair_genes, labels
        )
        return self

    @staticmethod
    def _sums(genes: list[list[int]], y: torch.Tensor, index: torch.Tensor, labels: int):
        """Sums and counts of ``y`` per gene (one gene each) or per unordered gene pair (both
        orders), over the positions of ``index``."""
        position = {g: k for k, g in enumerate(index.tolist())}
        shape = (len(position),) * (len(genes[0]) if genes else 1) + (labels,)
        total, count = (
            torch.zeros(shape, dtype=torch.float64),
            torch.zeros(shape, dtype=torch.float64),
        )
        if not genes:
            return total, count
        at = torch.tensor([[position[g] for g in row] for row in genes])
        seen = ~torch.isnan(y)
        values = torch.nan_to_num(y).double()
        orders = [at] if at.shape[1] == 1 else [at, at.flip(1)]
        for order in orders:
            total.index_put_(tuple(order.T), values, accumulate=True)
            count.index_put_(tuple(order.T), seen.double(), accumulate=True)
        return total, count

    def _neighbours(self, genes: torch.Tensor, among: torch.Tensor):
        """Each of ``genes``' k most similar genes of ``among`` (positions) and the weights
        (cosine similarity; 0 where not positive)."""
        sim = self.unit[genes] @ self.unit[among].T
        k = min(self.k, among.numel())
        weight, at = sim.topk(k, dim=1)
        return at, weight.clamp_min(0).double()

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        out = self.mean.expand(len(samples), -1).clone()
        singles = [i for i, s in enumerate(samples) if len(s.genes) == 1]
        if singles and self.single_genes.numel():
            genes = torch.tensor([samples[i].genes[0] for i in singles])
            at, w = self._neighbours(genes, self.single_genes)
            num = (w[..., None] * self.single_sum[at]).sum(1)
            den = (w[..., None] * self.single_count[at]).sum(1)
            out[singles] = self._ratio(num, den, out[singles])
        doubles = [i for i, s in enumerate(samples) if len(s.genes) == 2]
        if doubles and self.pair_genes.numel():
            pairs = torch.tensor([list(samples[i].genes) for i in doubles])
            for start in range(0, len(doubles), self.CHUNK):
                rows, part = doubles[start : start + self.CHUNK], pairs[start : start + self.CHUNK]
                a, wa = self._neighbours(part[:, 0], self.pair_genes)
                b, wb = self._neighbours(part[:, 1], self.pair_genes)
                weight = (wa[:, :, None] * wb[:, None, :])[..., None]  # (n, k, k, 1)
                grid = (a[:, :, None], b[:, None, :])
                num = (weight * self.pair_sum[grid]).sum((1, 2))
                den = (weight * self.pair_count[grid]).sum((1, 2))
                out[rows] = self._ratio(num, den, out[rows])
        return out

    @staticmethod
    def _ratio(num: torch.Tensor, den: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
        """num / den, the fallback (the training mean) where no neighbour was measured."""
        return torch.where(den > 0, num / den.clamp_min(1e-12), fallback.double()).float()

    @classmethod
    def chosen_on_validation(cls, features: torch.Tensor, train: Part, val: Part) -> GeneNeighbours:
        """k from ``K_GRID`` by the validation MSE (in units of each label's training SD,
        summed over labels); the test split is never looked at."""
        model = cls(features).fit(*train)
        return _chosen(model, list(cls.K_GRID), lambda k: setattr(model, "k", k), train, val)


class GeneBoosting:
    name = "gene-feature boosting"
    RANK = 32

    def __init__(self, features: torch.Tensor, seed: int = 0):
        x = features.double()
        x = (x - x.mean(0)) / x.std(0).clamp_min(1e-12)
        with torch.random.fork_rng():  # the sketch's random draw, the same in every process
            torch.manual_seed(seed)
            u, sv, _ = torch.svd_lowrank(x, q=min(self.RANK, *x.shape), niter=4, M=None)
        self.vectors = (u * sv).float()  # (num_genes, rank)
        self.seed = seed

    def _encode(self, samples: Sequence[Genotype]) -> np.ndarray:
        rows = []
        for sample in samples:
            v = self.vectors[list(sample.genes)]
            total = v.sum(0)
            pairs = (total**2 - (v**2).sum(0)) / 2  # Σ_{a<b} v_a ⊙ v_b
            rows.append(torch.cat([total, pairs, torch.tensor([float(len(sample.genes))])]))
        return torch.stack(rows).numpy()

    def fit(self, samples: Sequence[Genotype], y: torch.Tensor) -> GeneBoosting:
        from sklearn.ensemble import HistGradientBoostingRegressor

        x, self.models, self.mean = self._encode(samples), [], _nanmean(y)
        for j in range(y.shape[1]):
            keep = ~torch.isnan(y[:, j])
            model = None
            if int(keep.sum()) >= 20:  # early stopping holds out a tenth of these
                model = HistGradientBoostingRegressor(
                    max_iter=300, early_stopping=True, validation_fraction=0.1,
                    n_iter_no_change=10, random_state=self.seed,
                ).fit(x[keep.numpy()], y[keep, j].numpy())  # fmt: skip
            self.models.append(model)
        return self

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        out = self.mean.expand(len(samples), -1).clone()
        if samples:
            x = self._encode(samples)
            for j, model in enumerate(self.models):
                if model is not None:
                    out[:, j] = torch.from_numpy(model.predict(x)).float()
        return out


# The fitted nulls of the last inputs seen: the models and seeds of one ``tc compare`` share a
# split, and fitting is deterministic, so they share one fit.
_FITTED: dict[str, list] = {}


def _inputs_key(samples, y, indices, features, num_genes, labels) -> str:
    digest = hashlib.sha256(pickle.dumps((samples, labels, num_genes)))
    for tensor in (y, features, *(indices[k] for k in sorted(indices))):
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()


def fitted_baselines(data, columns: list[int], labels: list[str]) -> list:
    """Every baseline fitted on the training split of a ``CellDataModule`` (hyperparameters
    chosen on validation). ``multiplicative (all singles)`` is a reference, not a competitor:
    it reads the single mutants' fitness from every split, test included, so on held-out genes
    it knows what no trained model can (the measured fitness of the held-out genes' singles).
    The same inputs (samples, labels, split, gene features) give the same fitted objects."""
    y = data.y[:, columns]
    samples = data.samples
    features = gene_features(data.dataset.cell_graph, NULL_FEATURES)
    key = _inputs_key(samples, y, data.indices, features, data.dataset.num_genes, labels)
    if key not in _FITTED:
        _FITTED.clear()
        _FITTED[key] = _fit_baselines(data, y, features, labels)
    return _FITTED[key]


def _fit_baselines(data, y: torch.Tensor, features: torch.Tensor, labels: list[str]) -> list:
    samples = data.samples
    part = {k: v.tolist() for k, v in data.indices.items()}
    singles = [i for i, s in enumerate(samples) if len(s.genes) == 1]

    def rows(indices):
        return [samples[i] for i in indices], y[indices]

    train, models = rows(part["train"]), [MeanBaseline(), AdditiveRidge()]
    if "fitness" in labels:  # the multiplicative null predicts fitness (and ε = 0) from singles
        models.insert(1, MultiplicativeBaseline(labels))
    fitted = [model.fit(*train) for model in models]
    val = rows(part["val"])
    fitted.append(LowRankPairs.chosen_on_validation(data.dataset.num_genes, train, val))
    fitted.append(FeatureRidge.chosen_on_validation(features, train, val))
    go = gene_features(data.dataset.cell_graph, ("go",))
    fitted.append(GeneNeighbours.chosen_on_validation(go, train, val))
    fitted.append(GeneBoosting(features).fit(*train))
    if "fitness" in labels:
        oracle = MultiplicativeBaseline(labels)
        oracle.name = ALL_SINGLES
        fitted.append(oracle.fit(*rows(sorted(set(part["train"]) | set(singles)))))
    return fitted


def baseline_metrics(
    data, columns: list[int], labels: list[str], fitted: list | None = None
) -> tuple[dict, dict]:
    """The baselines (``fitted_baselines``, or those given) scored on val/test: their metrics,
    and their test predictions ({name: (n_test, L)}, for paired comparisons); and, where the
    dataset holds a label's standard error (``<label>_se``), the replicate ceiling."""
    from torchcell.train.metrics import (
        bootstrap_ci,
        metrics_by_size,
        regression_metrics,
        replicate_ceiling,
    )  # fmt: skip

    fitted = fitted_baselines(data, columns, labels) if fitted is None else fitted
    y = data.y[:, columns]
    samples = data.samples
    part = {k: v.tolist() for k, v in data.indices.items()}
    out, test_preds = {}, {}
    sizes = torch.tensor([len(samples[i].genes) for i in part["test"]])
    clusters = data.clusters("test")
    for model in fitted:
        scores = {}
        for split in ("val", "test"):
            pred = model.predict([samples[i] for i in part[split]])
            scores[split] = regression_metrics(pred, y[part[split]], labels)
        test_y = y[part["test"]]
        scores["test_ci"] = bootstrap_ci([pred], test_y, labels, clusters=clusters)
        scores["test_by_size"] = metrics_by_size(pred, test_y, sizes, labels)
        out[model.name], test_preds[model.name] = scores, pred
    errors = [f"{label}_se" for label in labels]
    if any(e in data.dataset.labels for e in errors):
        nan = torch.full((len(samples),), float("nan"))
        se = torch.stack(
            [data.y[:, data.dataset.labels.index(e)] if e in data.dataset.labels else nan
             for e in errors], dim=1,
        )  # fmt: skip
        ceiling = {k: replicate_ceiling(y[part[k]], se[part[k]], labels) for k in ("val", "test")}
        test = part["test"]
        ceiling["test_ci"] = {label: {"mse": [math.nan] * 2, "pearson": [math.nan] * 2}
                              for label in labels}  # fmt: skip
        ceiling["test_by_size"] = {
            str(k): replicate_ceiling(y[test][sizes == k], se[test][sizes == k], labels)
            for k in sorted(set(sizes.tolist()))
        }
        out[CEILING] = ceiling
    return out, test_preds


class BestNull:
    """Per label, the competing baseline with the lowest validation MSE (never the all-singles
    reference): what a model that starts from the null adds its output to."""

    name = "best null"

    def __init__(self, fitted: list, data, columns: list[int], labels: list[str]):
        from torchcell.train.metrics import regression_metrics

        val = data.indices["val"].tolist()
        samples, y = [data.samples[i] for i in val], data.y[val][:, columns]
        self.fitted = fitted
        competitors = [m for m in fitted if m.name not in REFERENCES]
        errors = [regression_metrics(m.predict(samples), y, labels) for m in competitors]
        self.choice = []
        for label in labels:
            scored = [(e[label]["mse"], i) for i, e in enumerate(errors) if e[label]["n"]]
            self.choice.append(competitors[min(scored)[1] if scored else 0])
        self.names = [m.name for m in self.choice]

    def predict(self, samples: Sequence[Genotype]) -> torch.Tensor:
        """Each label from its chosen baseline (a baseline chosen twice predicts once)."""
        by_model = {id(m): m.predict(samples) for m in self.choice}
        columns = [by_model[id(m)][:, j] for j, m in enumerate(self.choice)]
        return torch.stack(columns, dim=1)
