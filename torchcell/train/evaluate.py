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
from torchcell.models import build_model
from torchcell.train.allocator import keep_freed_memory
from torchcell.train.config import TrainConfig
from torchcell.train.loop import CHECKPOINT, data_module, label_columns, quiet_lightning
from torchcell.train.module import CellModule


def evaluate(
    checkpoint: Path,
    dataset: Path,
    part: str = "all",
    batch_size: int = 256,
    accelerator: str = "cpu",
    progress_bar: bool = False,
) -> dict:
    checkpoint = Path(checkpoint)
    if checkpoint.is_dir():
        checkpoint = checkpoint / CHECKPOINT
    raw = read_checkpoint(checkpoint)
    saved = dict(raw["config"])
    saved.setdefault("split_seed", saved.get("seed", 0))  # before split_seed, seed split too
    config = TrainConfig.model_validate(
        {
            **saved,
            "dataset": str(dataset),
            "batch_size": batch_size,
            "accelerator": accelerator,
        }
    )
    quiet_lightning()
    keep_freed_memory()
    data = data_module(config)
    if data.dataset.genes != raw["genes"]:
        raise TorchCellError(
            f"{dataset} indexes {data.dataset.num_genes} genes and the checkpoint "
            f"{len(raw['genes'])}, not in the same order: the model cannot score it"
        )
    columns = label_columns(config, data)
    model = build_model(
        config,
        data.dataset.cell_graph,
        len(columns),
        len(raw["environments"]),
        embeddings=raw["state_dict"].get("pretrained"),
    )
    model.load_state_dict(raw["state_dict"])
    model = _with_checkpoint_environments(model, data.dataset.manifest.environments, raw, dataset)
    module = CellModule(model, config, columns, raw["label_mean"], raw["label_std"])
    trainer = L.Trainer(
        accelerator=accelerator, devices=1, logger=False, enable_progress_bar=progress_bar,
        enable_model_summary=False,
    )  # fmt: skip
    trainer.test(module, data.loader(part, shuffle=False), verbose=False)
    result = module.test_result
    return {
        "checkpoint": str(checkpoint), "dataset": str(dataset), "part": part,
        "model": raw["model"], "n": len(data.part(part)),
        "metrics": result["metrics"], "by_size": result["by_size"],
    }  # fmt: skip


CHECKPOINT_KEYS = ("config", "model", "genes", "environments", "state_dict", "label_mean", "label_std")


def read_checkpoint(path: Path) -> dict:
    """The contents of a ``model.pt`` written by ``tc train``; a TorchCellError naming the file
    and what to do when it is missing (a run killed before its end), truncated or another file."""
    path = Path(path)
    if not path.exists():
        run = path.parent if path.name == CHECKPOINT else None
        if run is not None and run.is_dir():
            raise TorchCellError(
                f"{run} holds no {CHECKPOINT}: the tc train that wrote it did not finish "
                f"(model.pt is written at its end); train again with --overwrite"
            )
        raise TorchCellError(f"checkpoint {path} does not exist")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, EOFError, OSError or pickle's errors
        raise TorchCellError(
            f"{path} is not a readable {CHECKPOINT} ({type(err).__name__}; truncated or "
            "damaged?); train again with --overwrite"
        ) from None
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(raw, dict) or k not in raw]
    if missing:
        raise TorchCellError(
            f"{path} is not a {CHECKPOINT} written by tc train (it lacks {', '.join(missing)}); "
            f"pass the run folder or its {CHECKPOINT}"
        )
    return raw


class _RemappedEnvironments(torch.nn.Module):
    """The model, reading a dataset whose environment indices are not the checkpoint's."""

    def __init__(self, model: torch.nn.Module, mapping: list[int]):
        super().__init__()
        self.model = model
        self.register_buffer("mapping", torch.tensor(mapping, dtype=torch.long))

    def forward(self, batch):
        batch.environment = self.mapping[batch.environment]
        return self.model(batch)


def _with_checkpoint_environments(model, environments: list[str], raw: dict, dataset: Path):
    """Models embed the environment (media, temperature) by its index in the training
    dataset's manifest: a dataset that lists them otherwise is remapped by name, and one with an
    environment the model never saw is refused (its embedding would be another's)."""
    known = {name: i for i, name in enumerate(raw["environments"])}
    unknown = [name for name in environments if name not in known]
    if unknown:
        raise TorchCellError(
            f"{dataset} has environment(s) {unknown} that the checkpoint was not trained on "
            f"(it knows {raw['environments']}): the model has no embedding for them"
        )
    mapping = [known[name] for name in environments]
    if mapping == list(range(len(mapping))):
        return model
    return _RemappedEnvironments(model, mapping)
