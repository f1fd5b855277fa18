"""The library surface: the top-level API, the example a notebook user follows, CLI conventions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torchcell

from conftest import run_tc

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "train_from_python.py"


def test_the_python_example_trains_rescores_and_predicts_like_tc_predict(sample_dataset, tmp_path):
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(sample_dataset), str(run)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "test Pearson of fitness" in done.stdout and "additive ridge" in done.stdout
    metrics = json.loads((run / "metrics.json").read_text())
    rescored = float(done.stdout.split("MSE ")[1].split()[0])
    assert abs(rescored - metrics["test"]["fitness"]["mse"]) < 1e-4
    # a pair the dataset does not hold, from Python and from tc predict: the same number
    line = next(x for x in done.stdout.splitlines() if x.startswith("predicted fitness of"))
    pair, environment = (
        line.split(" of ")[1].split(" in ")[0],
        line.split(" in ")[1].rsplit(":", 1)[0],
    )
    value = float(line.rsplit(": ", 1)[1])
    printed = run_tc("predict", str(run), "--genes", pair, "--environment", environment)
    assert f"{value:.5f}" in printed.stdout
    first = pair.split(",")[0]
    for bad, message in ((f"{pair},YNOTAGENE", "not among the model's"),
                         (f"{first},{first}", "names a gene twice")):  # fmt: skip
        result = run_tc(
            "predict", str(run), "--genes", bad, "--environment", environment, check=False
        )
        assert result.returncode == 1 and message in " ".join(result.stderr.split())


def test_top_level_api_names_resolve():
    from torchcell import (
        CellDataModule,
        CellDataset,
        CellModule,
        TrainConfig,
        evaluate,
        load_model,
        train,
    )
    from torchcell.cell.dataset import CellDataset as Direct

    assert CellDataset is Direct and callable(train) and callable(evaluate) and callable(load_model)
    assert CellModule.load_from_checkpoint
    assert TrainConfig.model_fields["model"] and CellDataModule
    assert set(torchcell.__all__) >= {"CellDataset", "CellDataModule", "TrainConfig", "train"}


def test_version_names_the_package_version():
    result = run_tc("--version")
    assert result.stdout.startswith(f"tc {torchcell.__version__}")


def test_error_text_is_printed_literally(tmp_path):
    """The failure this guards against: rich read '[fitness]' as markup and printed 'labels  missing'."""
    missing = tmp_path / "[fitness]" / "model.pt"
    result = run_tc("evaluate", str(missing), str(tmp_path), check=False)
    assert result.returncode == 1
    assert f"checkpoint {missing} does not exist" in " ".join(result.stderr.split())


def test_lightning_fit_with_the_datamodule_and_load_from_checkpoint(sample_dataset, tmp_path):
    import lightning as L
    import torch

    from torchcell import CellDataModule, CellModule, TrainConfig

    config = TrainConfig(dataset=sample_dataset, output=tmp_path, labels=["fitness"])
    data = CellDataModule(sample_dataset, batch_size=32)
    module = CellModule.from_data(config, data)
    trainer = L.Trainer(
        max_epochs=1, limit_train_batches=3, limit_val_batches=2, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, num_sanity_val_steps=0,
    )  # fmt: skip
    before = [p.detach().clone() for p in module.parameters()]
    trainer.fit(module, datamodule=data)
    assert any(not torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True))
    trainer.save_checkpoint(tmp_path / "m.ckpt")
    loaded = CellModule.load_from_checkpoint(tmp_path / "m.ckpt")  # its hyperparameters suffice
    batch = next(iter(data.test_dataloader()))
    assert torch.allclose(module.eval()(batch).pred, loaded.eval()(batch).pred)
    assert loaded.genes == data.dataset.genes and loaded.config.labels == ["fitness"]


TOY_MODEL = '''
"""A toy model: one learnable number per gene, summed over the perturbed genes."""
import torch
from torch import nn

from torchcell.models.base import ModelOutput, perturbed_genes
from torchcell.models.registry import ModelSection, ModelSpec, register


class ToyConfig(ModelSection):
    scale: float = 1.0


class Toy(nn.Module):
    def __init__(self, num_genes, num_labels, scale):
        super().__init__()
        self.num_genes, self.scale = num_genes, scale
        self.weight = nn.Parameter(torch.zeros(num_genes, num_labels))

    def forward(self, batch):
        mask = perturbed_genes(batch, self.num_genes).float()
        return ModelOutput(self.scale * mask @ self.weight)


register(ModelSpec(
    "toy", ToyConfig,
    lambda config, cell, labels, envs, restored: Toy(len(cell.genes), labels, config.toy.scale),
    summary="one number per gene",
))
'''


def test_a_toy_model_plugs_in_through_the_registry_alone(sample_dataset, tmp_path):
    """Its module and its config, nothing of torchcell edited: tc train, tc models, tc predict."""
    (tmp_path / "toy_model.py").write_text(TOY_MODEL)
    config = tmp_path / "toy.yaml"
    config.write_text(
        f"base: {Path(__file__).parent.parent / 'pipeline/train/demo.yaml'}\n"
        f"plugins: [toy_model]\nmodel: toy\ntoy: {{scale: 2.0}}\nepochs: 1\n"
        f"labels: [fitness]\ndataset: {sample_dataset}\noutput: {tmp_path / 'run'}\n"
    )
    env = {"PYTHONPATH": str(tmp_path)}
    result = run_tc("train", str(config), "--no-progress", env=env)
    assert "training toy (" in result.stdout
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["config"]["toy"] == {"scale": 2.0} and metrics["history"]
    done = run_tc("evaluate", str(tmp_path / "run"), str(sample_dataset), env=env)
    assert "toy from" in " ".join(done.stdout.split())
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text().replace("plugins: [toy_model]\n", ""))
    refused = run_tc("train", str(bad), "--no-progress", "--overwrite", env=env, check=False)
    assert refused.returncode == 1 and "'toy' is not a registered model" in refused.stderr


def test_random_split_keeps_every_environment_of_a_genotype_in_one_part(sample_dataset):
    """The sample measures genotypes at 26 and 30 °C: each genotype lies in one part only."""
    from torchcell import CellDataModule

    data = CellDataModule(sample_dataset, split="random", seed=3)
    where: dict = {}
    for part in ("train", "val", "test"):
        for i in data.part(part):
            where.setdefault(data.samples[i].key()[0], set()).add(part)
    environments = {}
    for sample in data.samples:
        environments.setdefault(sample.key()[0], set()).add(sample.environment)
    assert any(len(e) > 1 for e in environments.values())  # the case this guards
    assert all(len(parts) == 1 for parts in where.values())


def test_a_model_that_starts_from_the_null_predicts_the_null_at_zero_output(
    sample_dataset, tmp_path
):
    """The toy model's weights start at zero: its module predicts exactly the best null."""
    import importlib.util

    import torch

    from torchcell import CellDataModule, CellModule, TrainConfig
    from torchcell.train.module import FromNull

    (tmp_path / "toy_model.py").write_text(TOY_MODEL)
    spec = importlib.util.spec_from_file_location("toy_model", tmp_path / "toy_model.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))  # registers "toy"
    config = TrainConfig(dataset=sample_dataset, output=tmp_path / "run", model="toy",
                         labels=["fitness", "gene_interaction"], start_from_null=True)  # fmt: skip
    data = CellDataModule(sample_dataset)
    module = CellModule.from_data(config, data).eval()
    assert isinstance(module.model, FromNull)
    null = module.model.null  # fitted on the training split, chosen per label on validation
    test = data.part("test")
    expected = null.predict([data.samples[i] for i in test])
    got = torch.cat([module.in_label_units(module(b).pred) for b in data.test_dataloader()])
    assert torch.allclose(got, expected, atol=1e-5)
    assert null.names[0] != "mean"  # a real choice on validation, not the fallback
    # a genotype of no dataset is scored from its genes and kinds alone, the same way
    i = next(i for i in test if not any(data.samples[i].alleles) and len(data.samples[i].genes) > 1)
    genes = [data.dataset.genes[g] for g in data.samples[i].genes]
    (row,) = module.predict([genes], environment=module.environments[data.samples[i].environment])
    assert abs(row["fitness"] - float(null.predict([data.samples[i]])[0, 0])) < 1e-4


def test_every_command_has_an_example_and_choices_are_checked_at_parse_time():
    import typer.main

    from torchcell.cli.app import app

    def commands(group, prefix=""):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from commands(command, f"{prefix}{name} ")
            else:
                yield prefix + name, command

    missing = [
        name
        for name, c in commands(typer.main.get_command(app))
        if "Example:" not in (c.help or "")
    ]
    assert not missing, f"commands without an example: {missing}"
    result = run_tc("train", "x.yaml", "--split", "sideways", check=False)
    assert result.returncode == 2 and "sideways" in result.stderr  # a usage error, before any work
