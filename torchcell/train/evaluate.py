"""``tc evaluate CHECKPOINT DATASET``: re-score a trained model on any materialized dataset.

The dataset must share the checkpoint's gene list (models index genes by position); its
labels are matched by name. Scores are in the labels' own units, overall and per number of
perturbed genes, on every sample (``part="all"``) or on one part of the checkpoint's split.
Environments are matched by name too: an environment the model was not trained on is refused.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from torchcell.errors import TorchCellError
from torchcell.train.allocator import keep_freed_memory
from torchcell.train.checkpoint import checkpoint_path, read_checkpoint
from torchcell.train.config import TrainConfig
from torchcell.train.loop import data_module, quiet_lightning
from torchcell.train.module import CellModule, label_columns, start_null


def evaluate(
    checkpoint: Path,
    dataset: Path,
    part: str = "all",
    batch_size: int = 256,
    accelerator: str = "cpu",
    progress_bar: bool = False,
) -> dict:
    """Scores of a run (its folder or ``model.pt``) on ``dataset``'s ``part``."""
    path = checkpoint_path(checkpoint)
    raw = read_checkpoint(path)
    saved = raw["hyper_parameters"]
    config = TrainConfig.model_validate(
        {**saved["config"], "dataset": str(dataset), "batch_size": batch_size,
         "accelerator": accelerator}
    )  # fmt: skip
    quiet_lightning()
    keep_freed_memory()
    data = data_module(config)
    if data.dataset.genes != saved["genes"]:
        raise TorchCellError(
            f"{dataset} indexes {data.dataset.num_genes} genes and the checkpoint "
            f"{len(saved['genes'])}, not in the same order: the model cannot score it"
        )
    trained = TrainConfig.model_validate(saved["config"])  # its null: the training split's
    module = CellModule(
        **{**saved, "config": config, "columns": label_columns(config, data)},
        cell=data.dataset.cell_graph, data=data,
        null=start_null(trained) if trained.start_from_null else None,
    )  # fmt: skip
    module.load_state_dict(raw["state_dict"])
    module.model = _with_checkpoint_environments(
        module.model, data.dataset.manifest.environments, saved["environments"], dataset
    )
    trainer = L.Trainer(
        accelerator=accelerator, devices=1, logger=False, enable_progress_bar=progress_bar,
        enable_model_summary=False,
    )  # fmt: skip
    trainer.test(module, data.loader(part, shuffle=False), verbose=False)
    result = module.test_result
    return {
        "checkpoint": str(path), "dataset": str(dataset), "part": part,
        "model": config.model, "n": len(data.part(part)),
        "metrics": result["metrics"], "by_size": result["by_size"],
    }  # fmt: skip


class _RemappedEnvironments(torch.nn.Module):
    """The model, reading a dataset whose environment indices are not the checkpoint's."""

    def __init__(self, model: torch.nn.Module, mapping: list[int]):
        super().__init__()
        self.model = model
        self.register_buffer("mapping", torch.tensor(mapping, dtype=torch.long))

    def forward(self, batch):
        batch.environment = self.mapping[batch.environment]
        return self.model(batch)


def _with_checkpoint_environments(model, environments: list[str], trained: list[str], dataset):
    """Models embed the environment (media, temperature) by its index in the training
    dataset's manifest: a dataset that lists them otherwise is remapped by name, and one with an
    environment the model never saw is refused (its embedding would be another's)."""
    known = {name: i for i, name in enumerate(trained)}
    unknown = [name for name in environments if name not in known]
    if unknown:
        raise TorchCellError(
            f"{dataset} has environment(s) {unknown} that the checkpoint was not trained on "
            f"(it knows {trained}): the model has no embedding for them"
        )
    mapping = [known[name] for name in environments]
    if mapping == list(range(len(mapping))):
        return model
    return _RemappedEnvironments(model, mapping)
