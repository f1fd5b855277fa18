"""`tc train` and `tc evaluate` on the dataset materialized from the sample graph."""

from __future__ import annotations

import csv
import json
import statistics
import subprocess

import pytest
import torch

from torchcell.code_version import ROOT
from torchcell.paths import PIPELINE
from torchcell.train.baselines import REFERENCES
from torchcell.train.report import _training_table

from conftest import run_tc


@pytest.fixture(scope="module")
def data(sample_dataset):
    return sample_dataset


def test_train_writes_checkpoint_metrics_logs_and_plots(data, tmp_path):
    out = tmp_path / "train"
    result = run_tc(
        "train", str(PIPELINE / "train/demo.yaml"), "--dataset", str(data), "--out", str(out),
        "--epochs", "4", "--split", "random", "--no-progress",
    )  # fmt: skip
    assert "val pearson fitness" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]) == 4
    assert metrics["train"]["fitness"]["n"] == metrics["splits"]["train"]  # every label measured
    mean_mse = metrics["baselines"]["mean"]["test"]["fitness"]["mse"]
    assert metrics["train"]["fitness"]["mse"] < mean_mse  # the kept model fits its training data
    # Fitness carries real signal (single-mutant fitness drives double-mutant fitness); on a
    # random split the genes of validation samples were seen in training.
    assert metrics["val"]["fitness"]["pearson"] > 0.6
    assert set(metrics["baselines"]) == {
        "mean", "multiplicative", "additive ridge", "low-rank pairs", "gene-feature ridge",
        "GO neighbours", "gene-feature boosting", "multiplicative (all singles)",
        "replicate ceiling",  # the sample's spec keeps fitness_se: some genotypes have replicates
    }  # fmt: skip
    ceiling = metrics["baselines"]["replicate ceiling"]["test"]["fitness"]
    assert 0 < ceiling["n"] < metrics["test"]["fitness"]["n"] and ceiling["mse"] > 0
    assert metrics["baselines"]["mean"]["test"]["fitness"]["n"] == metrics["test"]["fitness"]["n"]
    doubles = metrics["test_by_size"]["2"]["fitness"]["n"]
    assert 0 < doubles < metrics["test"]["fitness"]["n"]
    # on a random split the single mutants of test genes were seen: f_i·f_j beats the mean
    mult, mean = (metrics["baselines"][k]["test"] for k in ("multiplicative", "mean"))
    assert mult["fitness"]["mse"] < mean["fitness"]["mse"]
    # the kept checkpoint is the epoch with the lowest validation loss
    losses = [h["val_loss"] for h in metrics["history"]]
    assert metrics["best_epoch"] == 1 + losses.index(min(losses))
    state = torch.load(out / "model.pt", weights_only=True)  # one format: Lightning's
    assert state["hyper_parameters"]["config"]["labels"] == ["fitness", "gene_interaction"]
    assert state["best_epoch"] == metrics["best_epoch"] == state["epoch"] + 1
    assert state["provenance"]["code"]["version"] and state["provenance"]["machine"]["cpu"]
    kept = torch.load(out / "checkpoints/best.ckpt", weights_only=True)
    assert "optimizer_states" not in kept and kept["epoch"] + 1 == metrics["best_epoch"]
    assert metrics["provenance"]["dataset_manifest"] == state["provenance"]["dataset_manifest"]
    smoothing = json.loads((out / "oversmoothing.json").read_text())
    assert len(smoothing["gene"]) == 3 and all(d > 0 for d in smoothing["gene"])  # input + 2 layers
    for name in (
        "loss.png", "predictions.png", "latent.png", "distributions.png", "oversmoothing.png",
        "checkpoints/best.ckpt",
    ):  # fmt: skip
        assert (out / name).stat().st_size > 1000, name
    with (out / "logs/metrics.csv").open() as fh:
        logged = [row for row in csv.DictReader(fh) if row.get("val_loss")]
    assert len(logged) == 4

    # tc evaluate re-scores the checkpoint: on the same split part it gives the same numbers
    result = run_tc(
        "evaluate",
        str(out / "model.pt"),
        str(data),
        "--part",
        "test",
        "--out",
        str(tmp_path / "e.json"),
    )
    again = json.loads((tmp_path / "e.json").read_text())
    for label, m in metrics["test"].items():
        assert again["metrics"][label]["n"] == m["n"]
        assert again["metrics"][label]["mse"] == pytest.approx(m["mse"], rel=1e-4)
    # the same model with its environments listed in another order (embedding rows moved with
    # them) scores the same: environments are matched by name, not position
    raw = torch.load(out / "model.pt", weights_only=True)
    hp = raw["hyper_parameters"]
    assert len(hp["environments"]) >= 2
    hp["environments"] = hp["environments"][::-1]
    raw["state_dict"]["model.environment.weight"] = raw["state_dict"][
        "model.environment.weight"
    ].flip(0)
    torch.save(raw, tmp_path / "reordered.pt")
    run_tc("evaluate", str(tmp_path / "reordered.pt"), str(data), "--part", "test", "--out",
           str(tmp_path / "r.json"))  # fmt: skip
    reordered = json.loads((tmp_path / "r.json").read_text())
    for label, m in metrics["test"].items():
        assert reordered["metrics"][label]["mse"] == pytest.approx(m["mse"], rel=1e-4)
    hp["environments"] = ["YPD 37 °C", *hp["environments"][1:]]
    torch.save(raw, tmp_path / "unknown.pt")
    result = run_tc("evaluate", str(tmp_path / "unknown.pt"), str(data), check=False)
    assert result.returncode == 1 and "not trained on" in result.stderr


def test_evaluate_refuses_a_dataset_with_other_genes(data, tmp_path):
    bad = tmp_path / "model.pt"
    state = {
        "hyper_parameters": {
            "genes": ["YAL001C"], "config": {"dataset": "x", "output": "y"}, "columns": [0],
            "environments": [], "label_mean": [0.0], "label_std": [1.0], "restored": None,
        },
        "state_dict": {},
    }  # fmt: skip
    torch.save(state, bad)
    result = run_tc("evaluate", str(bad), str(data), check=False)
    assert result.returncode == 1 and "cannot score it" in result.stderr


def test_pretrain_dango_then_train_dango(data, tmp_path):
    embeddings = tmp_path / "emb.pt"
    result = run_tc(
        "pretrain-dango", str(data), "--out", str(embeddings), "--epochs", "5", "--dim", "16"
    )
    assert "physical" in result.stdout and embeddings.exists()
    config = tmp_path / "dango.yaml"
    config.write_text(
        (PIPELINE / "train/dango.yaml")
        .read_text()
        .replace("runs/pretrain/dango_embeddings.pt", str(embeddings))
    )
    out = tmp_path / "train"
    run_tc(
        "train", str(config), "--dataset", str(data), "--out", str(out), "--epochs", "1",
        "--no-progress",
    )  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["model"] == "dango" and metrics["test"]["fitness"]["n"] > 0


def test_two_process_ddp_on_cpu_scores_every_sample_once(data, tmp_path):
    """--devices 2 runs Lightning's DDP (gloo on CPU); the distributed sampler pads the last
    round with repeats, which must not reach the metrics."""
    out = tmp_path / "ddp"
    result = run_tc(
        "train", str(PIPELINE / "train/demo.yaml"), "--dataset", str(data), "--out", str(out),
        "--epochs", "1", "--devices", "2", "--no-progress",
    )  # fmt: skip
    lines = result.stdout.splitlines()  # rank 0 alone reports: one start line, one result
    assert sum(line.startswith("training hetero_cell ") for line in lines) == 1, result.stdout
    assert sum(line.startswith("checkpoint ") for line in lines) == 1, result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    baseline = metrics["baselines"]["mean"]
    for part in ("val", "test"):
        for label, m in metrics[part].items():
            assert m["n"] == baseline[part][label]["n"], (part, label)


def test_interaction_only_labels_with_the_distribution_loss(data, tmp_path):
    """A config that names only ε trains (DistLoss fitted on its training labels) and is scored
    beside the baselines that need no fitness; the multiplicative null, which predicts fitness,
    is left out rather than crashing."""
    from torchcell.train.config import TrainConfig
    from torchcell.train.loop import train

    config = TrainConfig(
        dataset=data, output=tmp_path / "eps", model="gene_set", labels=["gene_interaction"],
        epochs=2, split="random", loss={"lambda_dist": 0.5},
    )  # fmt: skip
    train(config, progress_bar=False, log=lambda line: None)
    metrics = json.loads((tmp_path / "eps" / "metrics.json").read_text())
    assert set(metrics["test"]) == {"gene_interaction"}
    assert metrics["test"]["gene_interaction"]["n"] > 0
    assert set(metrics["baselines"]) == {
        "mean",
        "additive ridge",
        "low-rank pairs",
        "gene-feature ridge",
        "GO neighbours",
        "gene-feature boosting",
        "replicate ceiling",
    }
    for baseline in metrics["baselines"].values():
        assert set(baseline["test"]) == {"gene_interaction"}


def _gene_set_config(tmp_path, data, extra: str):
    """A one-epoch gene_set config on the sample dataset, plus ``extra`` YAML lines."""
    config = tmp_path / "gene_set.yaml"
    config.write_text(
        f"dataset: {data}\noutput: unused\nmodel: gene_set\nlabels: [fitness]\nepochs: 1\n" + extra
    )
    return config


def test_the_nulls_of_one_split_are_fitted_once_per_process(data, tmp_path):
    """The models and seeds of one compare share a split: its nulls are fitted once; another
    split (or other labels) gets its own fit."""
    from torchcell.train.baselines import fitted_baselines
    from torchcell.train.config import TrainConfig
    from torchcell.train.loop import data_module

    config = TrainConfig.from_yaml(_gene_set_config(tmp_path, data, "split: random\n"))
    first = fitted_baselines(data_module(config), [0], ["fitness"])
    again = data_module(config.model_copy(update={"seed": 7, "model": "dango"}))
    assert fitted_baselines(again, [0], ["fitness"]) is first
    other = data_module(config.model_copy(update={"split_seed": 3}))
    refit = fitted_baselines(other, [0], ["fitness"])
    assert refit is not first
    assert not torch.equal(refit[0].mean, first[0].mean)  # the training means of two splits


def test_compare_trains_seeds_on_one_split_and_reports_spread_and_intervals(data, tmp_path):
    config = _gene_set_config(tmp_path, data, "seed: 5\nsplit_seed: 1\n")
    out = tmp_path / "compare"
    result = run_tc(
        "compare", str(config), "--split", "held_out_genes", "--seeds", "2", "--out", str(out),
        "--accelerator", "auto",  # reaches every run (auto: the GPU where there is one)
    )  # fmt: skip
    assert "seed 6: best epoch" in result.stdout
    # written to a pipe (a run's log), the table keeps each row on one line
    assert any(
        line.count("│") >= 9 and "gene_set" in line and "±" in line
        for line in result.stdout.splitlines()
    ), result.stdout
    rows = json.loads((out / "compare.json").read_text())["rows"]
    model = next(r for r in rows if r["model"] == "gene_set")
    assert model["seeds"] == 2 and len(model["per_seed"]) == 2
    first, second = (m["mse"] for m in model["per_seed"])
    assert first != second  # the seeds differ (initialisation, shuffling) ...
    assert model["per_seed"][0]["n"] == model["per_seed"][1]["n"] == model["n"]  # ... not the split
    mean, sd = model["mse"]
    assert mean == pytest.approx((first + second) / 2) and sd > 0
    low, high = model["mse_ci"]
    assert low < mean < high
    names = {r["model"] for r in rows}
    assert {
        "mean",
        "multiplicative",
        "additive ridge",
        "low-rank pairs",
        "gene-feature ridge",
    } <= names
    # the best null is chosen on validation among the competitors, and compared paired
    baselines = json.loads(
        (out / "held_out_genes" / "gene_set" / "split1" / "seed5" / "metrics.json").read_text()
    )["baselines"]
    val_mse = {k: v["val"]["fitness"]["mse"] for k, v in baselines.items() if k not in REFERENCES}
    assert model["null"] == min(val_mse, key=val_mse.get)
    low, high = model["delta_mse_ci"]
    assert low < model["delta_mse"] < high
    null_row = next(r for r in rows if r["model"] == model["null"])
    assert model["delta_mse"] == pytest.approx(mean - null_row["mse"][0], abs=1e-6)
    assert set(model["delta_mse_by_null"]) == set(val_mse)
    mean_row = next(r for r in rows if r["model"] == "mean")
    assert mean_row["n"] == model["n"] and mean_row["mse_ci"][0] < mean_row["mse"][0]
    for seed in (5, 6):  # runs are kept per seed, the split fixed by split_seed
        run = out / "held_out_genes" / "gene_set" / "split1" / f"seed{seed}"
        saved = json.loads((run / "metrics.json").read_text())
        assert saved["config"]["seed"] == seed and saved["config"]["split_seed"] == 1
        assert saved["config"]["accelerator"] == "auto"
    assert "| Pearson 95% CI |" in (out / "compare.md").read_text().splitlines()[0]
    assert "[1/2] gene_set on held_out_genes, seed 5: epoch   1" in result.stdout  # progress
    again = run_tc("compare", str(config), "--split", "held_out_genes", "--out", str(out),
                   check=False)  # fmt: skip
    assert again.returncode == 1 and "--overwrite" in again.stderr  # finished runs are kept
    # the results page, from compare.json alone, twice the same bytes
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- results:begin -->\nold\n<!-- results:end -->\ntail\n")
    page = tmp_path / "docs" / "results.md"
    run_tc("report", str(out), "--out", str(page), "--readme", str(readme))
    first_page, first_png = page.read_bytes(), (tmp_path / "docs/results/compare.png").read_bytes()
    run_tc("report", str(out), "--out", str(page), "--readme", str(readme))
    assert page.read_bytes() == first_page
    assert (tmp_path / "docs/results/compare.png").read_bytes() == first_png
    text = page.read_text()
    assert f"{mean:.5f} ± {sd:.5f}" in text and "commit `" in text and "GPU: " in text
    assert set(model["by_size"]) >= {"1", "2"} and "Per number of mutated genes" in text
    headline = readme.read_text()
    assert "old" not in headline and headline.endswith("tail\n")
    assert (
        f"| compare | held_out_genes | fitness | gene_set | {mean:.5f} | {model['null']} |"
        in headline
    )
    assert model["commits"] and "rows trained by code that changed" not in text
    # each run's kept epoch beside the epochs it trained, and whether it stopped improving
    trained = [
        len(json.loads((out / "held_out_genes" / "gene_set" / "split1" / f"seed{seed}"
                        / "metrics.json").read_text())["history"])
        for seed in (5, 6)
    ]  # fmt: skip
    assert model["epochs_run"] == trained and model["max_epochs"] >= max(trained)
    best = ", ".join(map(str, model["best_epochs"]))
    assert f"| gene_set | held_out_genes | {model['max_epochs']} |" in text
    unfinished = sum(b == t for b, t in zip(model["best_epochs"], trained, strict=True))
    state = f"**no**: {unfinished} of 2 runs kept their last epoch" if unfinished else "yes"
    assert f"| {best} | {', '.join(map(str, trained))} | {state} |" in text
    for kept, state in (([2, 3], "| yes |"), ([2, 4], "| **no**: 1 of 2 runs kept their last")):
        row = {**model, "best_epochs": kept, "epochs_run": [4, 4]}
        assert state in "\n".join(_training_table([row]))
    # a run kept by --resume from a commit whose result-producing code differs is named
    first_commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-list", "--max-parents=0", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip
    record = json.loads((out / "compare.json").read_text())
    for row in record["rows"]:
        if row["model"] == "gene_set":
            row["commits"] = [first_commit]
    (out / "compare.json").write_text(json.dumps(record))
    run_tc("report", str(out), "--out", str(page))
    assert "rows trained by code that changed since**: `gene_set`" in page.read_text()


def test_compare_over_split_seeds_scores_one_locked_test_part(data, tmp_path):
    """Two split seeds: two training/validation parts around one test part; the nulls are
    fitted per split seed and each run is paired with its own split's null."""
    from torchcell.train.compare import compare
    from torchcell.train.config import TrainConfig
    from torchcell.train.loop import data_module

    config = _gene_set_config(tmp_path, data, "score_train: false\n")
    out = tmp_path / "compare"
    rows = compare([config], ["held_out_genes"], seeds=1, split_seeds=2, out=out, log=lambda _: 0)
    model = next(r for r in rows if r["model"] == "gene_set")
    assert model["seeds"] == 2 and model["split_seeds"] == [0, 1]
    runs = [
        json.loads((out / "held_out_genes/gene_set" / f"split{k}/seed0/metrics.json").read_text())
        for k in (0, 1)
    ]
    assert [r["config"]["split_seed"] for r in runs] == [0, 1]
    parts = [data_module(TrainConfig.from_yaml(config, split_seed=k)).indices for k in (0, 1)]
    assert torch.equal(parts[0]["test"], parts[1]["test"])  # the locked test part
    assert not torch.equal(parts[0]["val"], parts[1]["val"])
    null = model["null"]
    val = [statistics.fmean(r["baselines"][k]["val"]["fitness"]["mse"] for r in runs)
           for k in runs[0]["baselines"] if k not in REFERENCES]  # fmt: skip
    assert statistics.fmean(r["baselines"][null]["val"]["fitness"]["mse"] for r in runs) == min(val)
    null_row = next(r for r in rows if r["model"] == null)
    per_split = [r["baselines"][null]["test"]["fitness"]["mse"] for r in runs]
    assert null_row["seeds"] == 2 and null_row["mse"][0] == pytest.approx(
        statistics.fmean(per_split)
    )
    assert per_split[0] != per_split[1]  # fitted on each split's own training part
    gaps = [r["test"]["fitness"]["mse"] - m for r, m in zip(runs, per_split, strict=True)]
    assert model["delta_mse"] == pytest.approx(statistics.fmean(gaps), abs=1e-6)


def test_compare_writes_each_finished_model_and_split_before_the_next_trains(data, tmp_path):
    from torchcell.train.compare import compare

    first = _gene_set_config(tmp_path, data, "")
    second = first.with_name("gene_set_again.yaml")
    second.write_text(first.read_text())
    out, seen = tmp_path / "compare", {}

    def log(line: str) -> None:  # "… best epoch": a model's seed has trained, not yet written
        if "best epoch" not in line:
            return  # a line per epoch
        written = out / "compare.json"
        rows = json.loads(written.read_text())["rows"] if written.exists() else []
        seen[line.split("] ", 1)[1].split(",")[0]] = {(r["model"], r["split"]) for r in rows}

    compare([first, second], ["held_out_genes", "random"], seeds=1, out=out, log=log)
    # a cut-off compare keeps the models that finished, each beside its split's nulls
    before_second = seen["gene_set_again on held_out_genes"]
    assert {("gene_set", "held_out_genes"), ("mean", "held_out_genes")} <= before_second
    assert not any(model == "gene_set_again" for model, _ in before_second)
    assert {("gene_set_again", "held_out_genes"), ("mean", "held_out_genes")} <= seen[
        "gene_set on random"
    ]
    assert not any(split == "random" for _, split in seen["gene_set on random"])
    rows = json.loads((out / "compare.json").read_text())["rows"]
    assert {("gene_set_again", "random"), ("mean", "random")} <= {
        (r["model"], r["split"]) for r in rows
    }


def test_compare_resume_keeps_finished_seeds_and_trains_what_is_missing(data, tmp_path):
    from torchcell.train.compare import compare

    config = _gene_set_config(tmp_path, data, "score_train: false\n")  # as for a long run
    out, lines = tmp_path / "compare", []
    first = compare([config], ["random"], seeds=1, out=out, log=lambda _: None)
    runs = out / "random" / "gene_set" / "split0"
    stamp = (runs / "seed0" / "model.pt").stat().st_mtime_ns
    metrics = json.loads((runs / "seed0" / "metrics.json").read_text())
    assert metrics["train"] is None and metrics["test"]["fitness"]["n"] > 0
    # a run written before a config field existed (at its default) is the same config
    del metrics["config"]["num_workers"]
    (runs / "seed0" / "metrics.json").write_text(json.dumps(metrics))

    def finished(line: str) -> None:  # a line per finished run (the others: one per epoch)
        if "best epoch" in line:
            lines.append(line)

    rows = compare([config], ["random"], seeds=2, out=out, log=finished, resume=True)
    assert "seed 0: kept the finished run" in lines[0] and "seed 1: best epoch" in lines[1]
    assert (runs / "seed0" / "model.pt").stat().st_mtime_ns == stamp
    assert rows[0]["per_seed"][0] == first[0]["per_seed"][0]
    assert rows[0]["seeds"] == 2 and rows[0]["delta_mse_by_null"]  # paired against the nulls
    # a run cut off before it finished (no predictions.pt), or another config: trained again
    (runs / "seed1" / "predictions.pt").unlink()
    lines.clear()
    compare([config], ["random"], seeds=2, out=out, log=finished, resume=True)
    assert "kept" in lines[0] and "kept" not in lines[1]
    lines.clear()
    compare([config], ["random"], seeds=1, epochs=2, out=out, log=finished, resume=True)
    assert "kept" not in lines[0]


def test_sweep_searches_on_validation_resumes_and_writes_the_best_config(data, tmp_path):
    from torchcell.errors import TorchCellError
    from torchcell.train.config import TrainConfig
    from torchcell.train.sweep import sweep

    config = _gene_set_config(tmp_path, data, "split: random\n")
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        f"train: {config}\nspace:\n  lr: {{low: 1.0e-4, high: 1.0e-1, log: true}}\n"
        "  hidden: {choices: [8, 16]}\n  loss.lambda_dist: {low: 0.0, high: 1.0}\n"
    )
    out = tmp_path / "sweep"
    first = run_tc("sweep", str(spec), "--trials", "1", "--sampler", "random", "--out", str(out))
    assert first.stdout.count(": validation loss") == 1
    again = run_tc("sweep", str(spec), "--trials", "2", "--sampler", "random", "--out", str(out))
    assert again.stdout.count(": validation loss") == 1  # resumed: one more trial, not two
    assert sorted(p.name for p in (out / "trials").iterdir()) == ["0000", "0001"]
    best = TrainConfig.from_yaml(out / "best.yaml")
    losses = {
        t.name: min(h["val_loss"] for h in json.loads((t / "metrics.json").read_text())["history"])
        for t in (out / "trials").iterdir()
    }
    winner = min(losses, key=losses.get)
    chosen = json.loads((out / "trials" / winner / "metrics.json").read_text())["config"]
    assert (best.lr, best.hidden, best.loss.lambda_dist) == (
        chosen["lr"],
        chosen["hidden"],
        chosen["loss"]["lambda_dist"],
    )
    rates = {
        json.loads((t / "metrics.json").read_text())["config"]["lr"]
        for t in (out / "trials").iterdir()
    }
    assert len(rates) == 2  # the trials sampled different values
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"train: {config}\nspace:\n  hetero_cell.depth: {{low: 1, high: 2}}\n")
    with pytest.raises(TorchCellError, match="not a config field"):
        sweep(bad, 1, tmp_path / "bad")


def test_every_shipped_training_config_is_valid():
    """Each YAML under pipeline/train (the README's commands name them) parses as a config."""
    from torchcell.train.config import TrainConfig

    paths = sorted((PIPELINE / "train").rglob("*.yaml"))
    assert len(paths) >= 15
    standalone = {"demo", "dcell", "dango", "gene_set"}  # each folder's reference configs
    for path in paths:
        config = TrainConfig.from_yaml(path)
        if config.model == "dcell" and "term_count" in path.stem:
            assert config.dcell.gene_input == "term_count"
        text = path.read_text()
        assert path.stem in standalone or "\nbase: " in text, f"{path}: a variant states its base"
        assert "tc train pipeline/train/" in text or path.parent.name == "train", path


def test_distribution_plot_of_a_model_that_predicts_one_value(tmp_path):
    """A model that learned little predicts one float32 value up to rounding: the histogram
    has no 40 finite bins of its own range (a real DCell run ended in matplotlib's ValueError)."""
    from torchcell.train.plots import plot_distributions

    true = torch.linspace(0.5, 1.1, 200)[:, None]
    pred = torch.full((200, 1), 0.9535)
    pred[::7] = torch.nextafter(pred[::7], torch.tensor(2.0))  # one float32 step apart
    out = plot_distributions(pred, true, ["fitness"], tmp_path / "d.png")
    assert out.stat().st_size > 0


def test_training_path_needs_no_source_parsers():
    """A GPU image without polars or cobra (the build's parsers) can still train: the modules
    `tc train` loads import neither (materialize's DatasetSpec once pulled them in)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for name in ('polars', 'cobra', 'openpyxl', 'optuna'): sys.modules[name] = None\n"
        "import torchcell.cli.app, torchcell.train.loop, torchcell.train.compare\n"
        "from torchcell.store.materialize import require_intact\n"
        "from torchcell.cell.datamodule import CellDataModule\n"
        "import torchcell.models\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_config_states_only_what_differs_from_its_base(tmp_path):
    from torchcell.errors import TorchCellError
    from torchcell.train.config import TrainConfig

    (tmp_path / "root.yaml").write_text(
        "dataset: d\noutput: o\nmodel: dcell\nepochs: 3\ndcell: {alpha: 0.5, min_genes: 4}\n"
    )
    (tmp_path / "variants").mkdir()
    (tmp_path / "variants" / "v.yaml").write_text("base: ../root.yaml\ndcell: {alpha: 0.1}\n")
    config = TrainConfig.from_yaml(tmp_path / "variants" / "v.yaml", epochs=5)
    assert (config.dcell.alpha, config.dcell.min_genes, config.epochs) == (0.1, 4, 5)
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(TorchCellError, match="returns to itself"):
        TrainConfig.from_yaml(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("base: missing.yaml\n")
    with pytest.raises(TorchCellError, match="missing.yaml does not exist"):
        TrainConfig.from_yaml(tmp_path / "c.yaml")
    (tmp_path / "d.yaml").write_text("base: root.yaml\ndcell: {alpha: -1}\nfoo: 1\n")
    with pytest.raises(TorchCellError, match="unknown field"):
        TrainConfig.from_yaml(tmp_path / "d.yaml")
