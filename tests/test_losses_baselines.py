"""Losses and baselines on small tensors whose answers are known."""

from __future__ import annotations

import math

import pytest
import torch

from torchcell.cell.datamodule import Genotype
from torchcell.losses import (
    LabelDistribution,
    combined_loss,
    dcell_loss,
    dist_loss,
    masked_mse,
    supcr_loss,
)
from torchcell.train.baselines import (
    AdditiveRidge,
    FeatureRidge,
    GeneBoosting,
    GeneNeighbours,
    LowRankPairs,
    MeanBaseline,
    MultiplicativeBaseline,
)
from torchcell.train.metrics import bootstrap_ci, paired_delta_ci, pearson, replicate_ceiling

NAN = float("nan")


def test_masked_mse_skips_unmeasured_labels():
    pred = torch.tensor([[1.0, 5.0], [2.0, 0.0]])
    target = torch.tensor([[2.0, NAN], [2.0, 1.0]])
    assert masked_mse(pred, target) == pytest.approx((1 + 0 + 1) / 3)


def test_label_distribution_quantiles_follow_the_training_labels():
    g = torch.Generator().manual_seed(0)
    train = torch.randn(4000, 2, generator=g) * torch.tensor([2.0, 0.5]) + 1
    train[::3, 1] = NAN  # the second label measured on two thirds of the samples
    distribution = LabelDistribution(train)
    labels = distribution.quantiles(0, 101)
    assert torch.all(labels[1:] >= labels[:-1])
    assert labels[50] == pytest.approx(float(train[:, 0].median()), abs=0.1)
    assert float(labels.std()) == pytest.approx(2.0, rel=0.1)
    assert float(distribution.quantiles(1, 101).std()) == pytest.approx(0.5, rel=0.1)
    assert LabelDistribution(torch.tensor([[1.0], [NAN]])).quantiles(0, 5) is None


def test_dist_loss_compares_a_batch_with_the_training_distribution_not_its_own():
    g = torch.Generator().manual_seed(1)
    distribution = LabelDistribution(torch.randn(5000, 1, generator=g))
    matched = torch.randn(512, 1, generator=g)  # same distribution as training, other order
    shrunk = matched * 0.2  # what MSE training does to the tails
    assert (
        dist_loss(matched, matched, distribution) < 0.05 < dist_loss(shrunk, matched, distribution)
    )
    # a batch whose own targets happen to be shrunk is still pulled to the training spread:
    # a per-batch KDE would call the shrunk predictions perfect here
    assert dist_loss(shrunk, shrunk, distribution) > 0.05
    with pytest.raises(ValueError, match="distribution"):
        combined_loss(matched, matched, lambda_dist=1.0)


def test_supcr_prefers_latents_ordered_like_the_labels():
    y = torch.linspace(0, 1, 16)[:, None]
    ordered = torch.cat([y * 10, torch.zeros_like(y)], dim=1)
    shuffled = ordered[torch.randperm(16, generator=torch.Generator().manual_seed(2))]
    assert supcr_loss(ordered, y) < supcr_loss(shuffled, y)
    assert math.isfinite(float(combined_loss(y, y, ordered, 1.0, 1.0, LabelDistribution(y))))


def test_dcell_loss_sums_the_auxiliary_terms():
    target = torch.tensor([1.0, 2.0])
    root = torch.tensor([1.0, 2.0])
    auxiliary = torch.tensor([[2.0, 0.0, 1.0], [2.0, 2.0, 3.0]])  # per-term MSE 0.5, 0.5, 0.5
    assert dcell_loss(root, auxiliary, target, alpha=0.3) == pytest.approx(0.3 * 1.5)


def test_baselines():
    labels = ["fitness", "gene_interaction"]
    genotypes = [Genotype(g, [0] * len(g)) for g in ([0], [1], [2], [0, 1], [1, 2])]
    y = torch.tensor([[0.8, NAN], [0.5, NAN], [1.0, NAN], [0.3, -0.1], [0.5, 0.0]])
    assert torch.allclose(
        MeanBaseline().fit(genotypes, y).predict([Genotype([0, 2])]), torch.tensor([[0.62, -0.05]])
    )
    multiplicative = MultiplicativeBaseline(labels).fit(genotypes, y)
    assert torch.allclose(
        multiplicative.predict([Genotype([0, 2], [0, 0]), Genotype([0, 9], [0, 0])]),
        torch.tensor([[0.8, 0.0], [0.62, -0.05]]),
    )
    # a single is matched on allele kind and environment first, then falls back to the gene
    hot = Genotype([0], [1], environment=1)
    specific = MultiplicativeBaseline(labels).fit(
        genotypes + [hot], torch.cat([y, torch.tensor([[0.2, NAN]])])
    )
    assert specific.predict([Genotype([0, 2], [1, 0], 1)])[0, 0] == pytest.approx(0.2 * 1.0)
    assert specific.predict([Genotype([0, 2], [0, 0], 1)])[0, 0] == pytest.approx(0.8 * 1.0)
    ridge = AdditiveRidge(alpha=1e-3).fit(genotypes[:3], y[:3])
    assert torch.allclose(
        ridge.predict([Genotype([0]), Genotype([1])])[:, 0], torch.tensor([0.8, 0.5]), atol=1e-3
    )


def test_dcell_loss_masks_unmeasured_labels_per_term():
    target = torch.tensor([[1.0, NAN], [2.0, 0.5]])
    root = torch.tensor([[1.0, 9.0], [2.0, 0.5]])  # exact where measured
    auxiliary = torch.stack([root, root + 1.0], dim=1)  # term 0 exact, term 1 off by 1
    assert dcell_loss(root, auxiliary, target, alpha=0.5) == pytest.approx(0.5 * 1.0)


def test_trigenic_null_adds_the_measured_digenic_interactions():
    """Kuzmin 2018: f_ijk = f_i f_j f_k + ε_ij f_k + ε_ik f_j + ε_jk f_i (τ = 0)."""
    labels = ["fitness", "gene_interaction"]
    train = [Genotype([0], [0]), Genotype([1], [0]), Genotype([2], [0]), Genotype([0, 1], [0, 0])]
    y = torch.tensor([[0.9, NAN], [0.8, NAN], [0.7, NAN], [0.6, -0.12]])
    null = MultiplicativeBaseline(labels).fit(train, y)
    pred = null.predict([Genotype([0, 1, 2], [0, 0, 0])])[0]
    assert pred[0].item() == pytest.approx(0.9 * 0.8 * 0.7 + (-0.12) * 0.7)
    assert pred[1].item() == 0.0
    double = null.predict([Genotype([0, 2], [0, 0])])[0]
    assert double[0].item() == pytest.approx(0.9 * 0.7), "pairs stay multiplicative"


def test_low_rank_pair_null_knows_genes_from_their_other_pairs():
    """Scores with a gene-factor structure: held-out pairs of seen genes are predicted well
    above the additive ridge, which cannot represent i·j interactions."""
    generator = torch.Generator().manual_seed(0)
    n = 30
    u = torch.randn(n, 2, generator=generator)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    perm = torch.randperm(len(pairs), generator=generator).tolist()
    train_pairs = [pairs[k] for k in perm[:300]]
    test_pairs = [pairs[k] for k in perm[300:]]

    def score(p):
        return float(u[p[0]] @ u[p[1]])

    train = [Genotype(list(p), [0, 0]) for p in train_pairs]
    y = torch.tensor([[score(p)] for p in train_pairs])
    test = [Genotype(list(p), [0, 0]) for p in test_pairs]
    truth = torch.tensor([score(p) for p in test_pairs])
    low_rank = LowRankPairs(n, rank=4).fit(train, y).predict(test)[:, 0]
    ridge = AdditiveRidge().fit(train, y).predict(test)[:, 0]
    r_low = torch.corrcoef(torch.stack([low_rank, truth]))[0, 1]
    r_ridge = torch.corrcoef(torch.stack([ridge, truth]))[0, 1]
    assert r_low > 0.8 and r_low > r_ridge + 0.3, (r_low, r_ridge)


def test_low_rank_null_is_indefinite_and_zero_for_genes_without_training_pairs():
    """y_ij = −u_i·u_j (similar genes aggravate each other): a positive semi-definite form
    cannot fit it, the indefinite one does; a gene in no training pair adds nothing."""
    generator = torch.Generator().manual_seed(1)
    n = 40
    u = torch.randn(n, 2, generator=generator)
    pairs = [(i, j) for i in range(n - 2) for j in range(i + 1, n - 2)]  # genes n-2, n-1: none
    perm = torch.randperm(len(pairs), generator=generator).tolist()
    cut = int(0.8 * len(pairs))

    def part(chosen):
        samples = [Genotype(list(p), [0, 0]) for p in chosen]
        return samples, torch.tensor([[-float(u[i] @ u[j])] for i, j in chosen])

    (train, y), (test, truth) = (
        part([pairs[k] for k in perm[:cut]]),
        part([pairs[k] for k in perm[cut:]]),
    )
    model = LowRankPairs(n, rank=4).fit(train, y)
    pred = model.predict(test)
    assert torch.corrcoef(torch.cat([pred, truth], 1).T)[0, 1] > 0.9
    unseen = model.predict([Genotype([n - 2, n - 1], [0, 0])])
    assert torch.allclose(unseen, model.center[None])  # μ + 0: no bias, no factors
    one = model.predict([Genotype([0, n - 1], [0, 0])])
    assert torch.allclose(one, model.center + model.scale * model.bias[0])
    chosen = LowRankPairs.chosen_on_validation(n, (train, y), (test[:50], truth[:50]))
    assert chosen.rank in LowRankPairs.RANK_GRID and chosen.l2 in LowRankPairs.L2_GRID


def test_feature_ridge_speaks_for_genes_training_never_saw():
    """Labels that follow the genes' features: a held-out gene is predicted from its features
    (the one-hot ridge can only give it the intercept), α is chosen on validation, and a label
    measured on some samples only is fitted on those."""
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(60, 4, generator=generator)
    w = torch.tensor([0.5, -1.0, 0.25, 2.0])

    def data(genes):
        samples = [Genotype(g, [0] * len(g)) for g in genes]
        noise = 0.05 * torch.randn(len(genes), generator=generator)
        score = torch.stack([features[list(g)].sum(0) @ w for g in genes]) + 1.0 + noise
        return samples, torch.stack([score, torch.where(noise > 0, score, NAN)], dim=1)

    train = data([[g] for g in range(40)] + [[g, g + 1] for g in range(0, 38, 2)])
    val = data([[g] for g in range(40, 50)])
    test_samples, test_y = data([[g] for g in range(50, 60)] + [[50, 55], [51, 58]])
    model = FeatureRidge.chosen_on_validation(features, train, val)
    assert model.alpha == 1.0, "the labels are nearly noiseless: the least shrinkage wins"
    pred = model.predict(test_samples)
    assert pearson(pred[:, 0], test_y[:, 0]) > 0.99
    assert pearson(pred[:, 1], test_y[:, 0]) > 0.98, "the same law from half the rows"
    one_hot = AdditiveRidge().fit(*train).predict(test_samples)[:, 0]
    assert one_hot.std() < 1e-6, "genes training never saw get the intercept alone"
    noisy = FeatureRidge.chosen_on_validation(
        features, (train[0], train[1] + 3 * torch.randn(train[1].shape, generator=generator)), val
    )
    assert noisy.alpha > model.alpha, "noisy training labels: more shrinkage chosen"


def test_go_neighbours_predict_from_the_most_similar_training_genes():
    """Genes 0, 1 share a GO term, 2, 3 another, 4 has none: an unseen gene gets its GO
    neighbour's single, an unseen pair the pair of its genes' neighbours, a gene without
    annotation the training mean; per label, unmeasured labels are skipped."""
    features = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1], [0, 0]])
    train = [Genotype([0], [0]), Genotype([2], [0]), Genotype([0, 2], [0, 0])]
    y = torch.tensor([[1.0, NAN], [0.0, 4.0], [5.0, 2.0]])
    model = GeneNeighbours(features, k=1).fit(train, y)
    test = [Genotype([1], [0]), Genotype([3], [0]), Genotype([4], [0]), Genotype([3, 1], [0, 0])]
    pred = model.predict(test)
    mean = y.nanmean(0).tolist()
    assert pred[:, 0].tolist() == pytest.approx([1.0, 0.0, mean[0], 5.0])
    assert pred[:, 1].tolist() == pytest.approx([mean[1], 4.0, mean[1], 2.0])  # 0: unmeasured


def test_go_neighbours_choose_k_on_validation(monkeypatch):
    """Gene 3 is most like gene 0 (same terms), less like 1 and 2: k = 1 predicts 0's single,
    k = 3 mixes in the others; validation decides which."""
    monkeypatch.setattr(GeneNeighbours, "K_GRID", (1, 3))
    features = torch.tensor([[1.0, 1], [1, 0], [1, 0], [1, 1]])
    train = ([Genotype([g], [0]) for g in range(3)], torch.tensor([[1.0], [0.0], [0.0]]))
    mixed = float(GeneNeighbours(features, k=3).fit(*train).predict([Genotype([3], [0])]))
    assert 0 < mixed < 1
    for truth, k in ((1.0, 1), (mixed, 3)):
        val = ([Genotype([3], [0])], torch.tensor([[truth]]))
        assert GeneNeighbours.chosen_on_validation(features, train, val).k == k


def test_gene_boosting_learns_an_interaction_of_gene_features_for_unseen_genes():
    """A pair's score is the dot product of its genes' features: no sum of gene features
    (the ridge) can say it, the boosted trees on the pairwise products can, for genes that
    training never saw."""
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(120, 4, generator=generator)
    z = (features - features.mean(0)) / features.std(0)

    def data(pairs):
        samples = [Genotype(list(p), [0, 0]) for p in pairs]
        return samples, torch.stack([z[a] @ z[b] for a, b in pairs])[:, None]

    rng = torch.Generator().manual_seed(1)
    pairs = torch.randint(0, 90, (3000, 2), generator=rng).tolist()
    train = data([p for p in pairs if p[0] != p[1]])
    test_samples, test_y = data(torch.randint(90, 120, (300, 2), generator=rng).tolist())
    boosted = GeneBoosting(features).fit(*train).predict(test_samples)
    ridge = FeatureRidge(features, alpha=1.0).fit(*train).predict(test_samples)
    assert pearson(boosted[:, 0], test_y[:, 0]) > 0.8
    assert abs(pearson(ridge[:, 0], test_y[:, 0])) < 0.3
    torch.manual_seed(123)  # the global random state does not reach the fit
    assert torch.equal(GeneBoosting(features).fit(*train).predict(test_samples), boosted)


def test_replicate_ceiling_is_what_the_true_means_score_against_measured_means():
    """Genotypes with true means μ, each measured as the mean of r noisy replicates: a model
    that predicts μ exactly scores MSE ≈ mean SE² and Pearson ≈ the reliability's root; the
    samples without a standard error (one replicate) are not counted."""
    generator = torch.Generator().manual_seed(0)
    n, r, sd = 4000, 3, 0.5
    mu = torch.randn(n, generator=generator)
    replicates = mu[:, None] + sd * torch.randn(n, r, generator=generator)
    measured = replicates.mean(1)
    se = replicates.std(1) / math.sqrt(r)
    se[:100] = NAN  # single measurements: no standard error
    ceiling = replicate_ceiling(measured[:, None], se[:, None], ["y"])["y"]
    assert ceiling["n"] == n - 100
    truth = ((mu - measured)[100:] ** 2).mean()
    assert ceiling["mse"] == pytest.approx(float(truth), rel=0.1)
    assert ceiling["pearson"] == pytest.approx(pearson(mu[100:], measured[100:]), abs=0.02)


def test_paired_interval_sees_a_small_consistent_gain_that_marginal_intervals_hide():
    """A model whose error is a little smaller than the null's on every sample: the marginal
    MSE intervals overlap, the paired interval of the difference lies below zero; swapping the
    roles puts it above zero; the seeds' predictions are averaged per sample first."""
    generator = torch.Generator().manual_seed(0)
    true = torch.randn(400, 1, generator=generator)
    noise = torch.randn(400, 1, generator=generator)
    null = true + noise
    model = true + 0.9 * noise
    marginal_null = bootstrap_ci([null], true, ["y"])["y"]["mse"]
    marginal_model = bootstrap_ci([model], true, ["y"])["y"]["mse"]
    assert marginal_model[1] > marginal_null[0], "the marginal intervals overlap"
    better = paired_delta_ci([model], null, true, ["y"])["y"]
    low, high = better["ci"]
    expected = float(((model - true) ** 2).mean() - ((null - true) ** 2).mean())
    assert better["delta_mse"] == pytest.approx(expected) and low < expected < high < 0
    worse = paired_delta_ci([null], model, true, ["y"])["y"]
    assert worse["ci"][0] > 0
    seeds = paired_delta_ci([model, null], null, true, ["y"])["y"]
    assert seeds["delta_mse"] == pytest.approx(expected / 2)


def test_cluster_bootstrap_widens_intervals_when_samples_share_genes():
    """Errors that come in gene blocks: resampling samples as if independent understates the
    spread; resampling the genes does not. Without clusters the weights reproduce the plain
    sample bootstrap (same draws, same numbers)."""
    from torchcell.train.metrics import bootstrap_ci, paired_delta_ci

    generator = torch.Generator().manual_seed(0)
    genes = torch.arange(20).repeat_interleave(50)  # 20 test genes, 50 samples each
    offset = torch.randn(20, generator=generator)[genes]  # a shared error per gene
    true = torch.randn(1000, 1, generator=generator)
    pred = true + offset[:, None] + 0.1 * torch.randn(1000, 1, generator=generator)
    clusters = [[int(g)] for g in genes]
    plain = bootstrap_ci([pred], true, ["y"])["y"]["mse"]
    by_gene = bootstrap_ci([pred], true, ["y"], clusters=clusters)["y"]["mse"]
    assert by_gene[1] - by_gene[0] > 3 * (plain[1] - plain[0])
    index = torch.randint(1000, (100, 1000), generator=torch.Generator().manual_seed(0))
    first = ((pred[index, 0] - true[index, 0]) ** 2).mean(1)  # the draws the plain one makes
    assert plain[0] >= float(first.min()) - 1e-9
    gap = paired_delta_ci([pred], torch.zeros_like(pred), true, ["y"], clusters=clusters)["y"]
    assert gap["ci"][0] < gap["delta_mse"] < gap["ci"][1]
