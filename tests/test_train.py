"""`tc train` on the dataset materialized from the sample graph."""

from __future__ import annotations

import json

import torch

from torchcell.paths import PIPELINE

from conftest import run_tc


def test_train_writes_checkpoint_and_metrics(sample_graph, tmp_path):
    data = tmp_path / "dataset"
    run_tc(
        "materialize-dataset",
        str(PIPELINE / "datasets/costanzo2016_sample.yaml"),
        "--out",
        str(data),
    )
    out = tmp_path / "train"
    result = run_tc(
        "train",
        str(PIPELINE / "train/demo.yaml"),
        "--dataset",
        str(data),
        "--output",
        str(out),
        "--epochs",
        "4",
        "--split",
        "random",
    )
    assert "val pearson fitness" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]) == 4
    # Fitness carries real signal (single-mutant fitness drives double-mutant fitness); on a
    # random split the genes of validation samples were seen in training.
    assert metrics["val"]["fitness"]["pearson"] > 0.6
    assert set(metrics["baselines"]) == {"mean", "multiplicative", "additive ridge"}
    assert metrics["baselines"]["mean"]["test"]["fitness"]["n"] == metrics["test"]["fitness"]["n"]
    # on a random split the single mutants of test genes were seen: f_i·f_j beats the mean
    mult, mean = (
        metrics["baselines"]["multiplicative"]["test"],
        metrics["baselines"]["mean"]["test"],
    )
    assert mult["fitness"]["mse"] < mean["fitness"]["mse"]
    state = torch.load(out / "model.pt", weights_only=True)
    assert state["labels"] == ["fitness", "gene_interaction"] and 1 <= state["epoch"] <= 4
