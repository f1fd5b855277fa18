"""The model registry: one ``ModelSpec`` per model module, read by the training config (its
``model:`` choices and the model's own section), the CLI's choices and ``CellModule``.

A model module ends with ``register(ModelSpec(...))``: its name, its config section (a pydantic
model; a training config holds it under the model's name), how it is built from the cell
graph, and optionally its loss and its optimizer. Adding a model is its module, its config
class and its test; nothing else names it. A module outside the package registers the same
way and is named in a training config's ``plugins:`` list so that ``tc train`` imports it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from torchcell.errors import TorchCellError

BUILTIN = (
    "torchcell.models.gene_set",
    "torchcell.models.hetero_cell",
    "torchcell.models.dcell",
    "torchcell.models.dango",
)


GeneFeature = Literal["go", "degree", "reactions", "regulators"]
"""The named per-gene feature sets a model may take (``torchcell.cell.gene_features``)."""


class ModelSection(BaseModel):
    """Base of a model's config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class GeneFeatureSection(ModelSection):
    """A model section that takes named per-gene input features."""

    gene_features: list[GeneFeature] = Field(
        default_factory=list,
        description="per-gene inputs (go: GO term membership without IGI and HGI; degree: log "
        "network degrees; reactions: the reactions it catalyses; regulators: its regulators), "
        "projected into the model's gene representation: what a held-out gene brings",
    )

    def feature_matrix(self, cell) -> torch.Tensor | None:
        """(num_genes, F) of the named sets (``torchcell.cell.gene_features``), or None."""
        from torchcell.cell.gene_features import gene_features

        return gene_features(cell, self.gene_features) if self.gene_features else None


@dataclass(frozen=True)
class ModelSpec:
    name: str
    """What a training config's ``model:`` says, and the key of the model's own section."""
    config: type[BaseModel]
    """The model's section of a training config (``TrainConfig.<name>``), with its defaults."""
    build: Callable[..., nn.Module]
    """``build(config, cell, num_labels, num_environments, restored)`` → the model.
    ``config`` is the whole ``TrainConfig``; ``restored`` is None in a new run and
    ``restore(model)``'s dict when a checkpoint is loaded (its weights follow)."""
    loss: Callable[..., torch.Tensor] | None = None
    """``loss(output, target, config, distribution)`` on standardized labels; None: MSE with
    the config's distribution and contrastive terms (``torchcell.losses.combined_loss``)."""
    optimizer: Callable[[nn.Module, BaseModel], torch.optim.Optimizer] | None = None
    """``optimizer(model, config)``; None: AdamW with the config's lr and weight decay."""
    restore: Callable[[nn.Module], dict] | None = None
    """What ``build`` needs, beside the config and the cell graph, to rebuild a trained model
    before its weights are loaded (plain values: it is saved with the checkpoint)."""
    summary: str = ""
    """One line for ``tc train --help`` and the config reference."""


_SPECS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add (or replace, on a module's reload) the model ``spec.name``."""
    _SPECS[spec.name] = spec
    return spec


def specs() -> dict[str, ModelSpec]:
    """Every registered model, the package's own first."""
    for module in BUILTIN:
        importlib.import_module(module)
    return dict(_SPECS)


def get(name: str) -> ModelSpec:
    known = specs()
    if name not in known:
        raise TorchCellError(f"unknown model {name!r}; registered models: {', '.join(known)}")
    return known[name]


def import_plugins(modules: list[str]) -> None:
    """Import the modules a training config's ``plugins:`` names (each registers its models)."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise TorchCellError(f"plugin module {module!r} cannot be imported: {err}") from None


def build_model(config, cell, num_labels: int, num_environments: int = 1, restored=None):
    """The model ``config.model`` names, for a cell graph (every model also reads the sample's
    environment index)."""
    return get(config.model).build(config, cell, num_labels, num_environments, restored)


def default_loss(output, target, config, distribution=None, regression: str = "mse"):
    """The loss of a model that names none: ``regression`` (MSE) plus the config's
    distribution (DistLoss) and contrastive (SupCR) terms."""
    from torchcell.losses import combined_loss

    loss = config.loss
    return combined_loss(
        output.pred, target, output.latent, loss.lambda_dist, loss.lambda_supcr, distribution,
        regression,
    )  # fmt: skip


def adamw(model: nn.Module, config) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
