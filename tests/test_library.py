"""The library surface: the top-level API, the example a notebook user follows, CLI conventions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torchcell

from conftest import run_tc

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "train_from_python.py"


def test_the_python_example_trains_and_rescores(sample_dataset, tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(sample_dataset), str(tmp_path / "run")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "test Pearson of fitness" in done.stdout and "additive ridge" in done.stdout
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    rescored = float(done.stdout.split("MSE ")[1].split()[0])
    assert abs(rescored - metrics["test"]["fitness"]["mse"]) < 1e-4


def test_top_level_api_names_resolve():
    from torchcell import CellDataModule, CellDataset, TrainConfig, evaluate, train
    from torchcell.cell.dataset import CellDataset as Direct

    assert CellDataset is Direct and callable(train) and callable(evaluate)
    assert TrainConfig.model_fields["model"] and CellDataModule
    assert set(torchcell.__all__) >= {"CellDataset", "CellDataModule", "TrainConfig", "train"}


def test_version_names_the_package_version():
    result = run_tc("--version")
    assert result.stdout.startswith(f"tc {torchcell.__version__}")


def test_error_text_is_printed_literally(tmp_path):
    """Before: rich read '[fitness]' as markup and printed 'labels  missing'."""
    missing = tmp_path / "[fitness]" / "model.pt"
    result = run_tc("evaluate", str(missing), str(tmp_path), check=False)
    assert result.returncode == 1
    assert f"checkpoint {missing} does not exist" in " ".join(result.stderr.split())
