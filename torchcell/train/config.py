"""Training configs (YAML under pipeline/train/), validated by pydantic; CLI flags override.

Each model's own options live in its module (``torchcell.models.<name>``, registered in
``torchcell.models.registry``) and sit in a config under the model's name (``dcell:``,
``dango:``, ...). A config may start from another with ``base: other.yaml`` (relative to the
file): it then states only what differs, and nested sections are merged key by key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from torchcell.cell.splits import TEST_SEED
from torchcell.config_files import read_yaml
from torchcell.errors import TorchCellError
from torchcell.models import registry


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LossConfig(_Strict):
    lambda_dist: float = Field(
        0.0, ge=0, description="weight of the distribution loss (DistLoss) beside the MSE"
    )
    lambda_supcr: float = Field(
        0.0, ge=0, description="weight of supervised contrastive regression (SupCR) on the latent"
    )


class TrainConfig(BaseModel):
    """What to train on, how, and where to write the results.

    Relative ``dataset``, ``output`` and embedding paths are resolved against the working
    directory.
    """

    model_config = ConfigDict(extra="allow")  # the models' sections, checked by _sections

    dataset: Path = Field(description="a materialized dataset directory (has manifest.json)")
    output: Path = Field(description="where checkpoints, metrics and plots go")
    model: str = Field("gene_set", description="a registered model (tc models lists them)")
    plugins: list[str] = Field(
        default_factory=list,
        description="modules to import before the config is read; each registers its models",
    )
    start_from_null: bool = Field(
        False,
        description="the model predicts the residual of the best null (per label, the baseline "
        "with the lowest validation MSE, fitted on the training split): with the network's "
        "output at zero the prediction is that null's",
    )
    rewired_graph: bool = Field(
        False,
        description="a control: the gene–gene networks rewired at random, each gene keeping "
        "its degree (seeded by split_seed; torchcell/cell/rewire.py)",
    )
    edgeless_graph: bool = Field(
        False,
        description="a control: the gene–gene networks (physical, regulatory, STRING) removed; "
        "GPR, reactions and GO kept (torchcell/cell/rewire.py)",
    )
    hidden: int = Field(64, ge=1, description="width of the models' hidden layers and embeddings")
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout probability in training")
    epochs: int = Field(20, ge=1, description="the most passes over the training split")
    patience: int | None = Field(None, ge=1, description="early stopping on validation loss")
    batch_size: int = Field(64, ge=1, description="samples per optimizer step")
    lr: float = Field(
        3e-3, gt=0, description="learning rate (AdamW unless the model names another)"
    )
    weight_decay: float = Field(0.0, ge=0, description="AdamW's decoupled weight decay")
    seed: int = Field(0, description="initialisation, shuffling and dropout (not the split)")
    split_seed: int = Field(
        0,
        description="the split's validation part (several seeds of a model share one split; "
        "tc compare --split-seeds trains on several)",
    )
    test_seed: int = Field(
        TEST_SEED,
        description="the split's test part, locked: the same for every split_seed, read only "
        "for the final scores",
    )
    labels: list[str] = Field(
        default_factory=lambda: ["fitness", "gene_interaction"],
        min_length=1,
        description="the dataset's labels to predict (the loss masks unmeasured ones)",
    )
    split: Literal["random", "held_out_genes", "held_out_pairs"] = Field(
        "held_out_genes",
        description="held_out_genes: no test gene is perturbed in training; held_out_pairs: no "
        "test gene pair is; random: by genotype (every environment of a genotype in one part)",
    )
    val_fraction: float = Field(0.15, gt=0, lt=0.5, description="share of the validation part")
    test_fraction: float = Field(0.15, gt=0, lt=0.5, description="share of the test part")
    accelerator: Literal["cpu", "gpu", "auto"] = Field("cpu", description="Lightning's accelerator")
    devices: int = Field(1, ge=1, description="devices to train on (DDP when more than one)")
    precision: Literal["32-true", "16-mixed", "bf16-mixed"] = Field(
        "32-true", description="Lightning's precision"
    )
    num_workers: int = Field(0, ge=0, description="data loader worker processes")
    score_train: bool = Field(
        True,
        description="score the training split with the kept checkpoint (metrics.json 'train', "
        "an overfitting check); a forward pass over every training sample: off for big runs",
    )
    loss: LossConfig = Field(LossConfig(), description="extra loss terms (see loss: below)")

    @model_validator(mode="before")
    @classmethod
    def _sections(cls, data):
        """Every registered model's section, validated by its config class (defaults where the
        file has none); a key that is neither a field nor a model is an error."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        registry.import_plugins(list(data.get("plugins") or []))
        specs = registry.specs()
        model = data.get("model", "gene_set")
        if model not in specs:
            raise ValueError(
                f"{model!r} is not a registered model ({', '.join(specs)}); a model of another "
                "package is registered by the module named in plugins:"
            )
        unknown = [k for k in data if k not in cls.model_fields and k not in specs]
        if unknown:
            raise ValueError(
                f"unknown field(s) {unknown}; fields: {sorted(cls.model_fields)}, model "
                f"sections: {sorted(specs)}"
            )
        for name, spec in specs.items():
            section = data.get(name) or {}
            if not isinstance(section, spec.config):
                try:
                    section = spec.config.model_validate(section)
                except ValidationError as err:
                    raise ValueError(f"{name}: {_errors(err)}") from None
            data[name] = section
        return data

    @model_validator(mode="after")
    def _one_control(self):
        if self.rewired_graph and self.edgeless_graph:
            raise ValueError("rewired_graph and edgeless_graph are two controls: choose one")
        return self

    def section(self) -> BaseModel:
        """The chosen model's own options."""
        return getattr(self, self.model)

    @classmethod
    def from_yaml(cls, path: Path, **overrides) -> TrainConfig:
        path = Path(path)
        data = with_base(path)
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise TorchCellError(f"training config {path} is invalid:\n{err}") from None


def _errors(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'section'}: {e['msg']}" for e in err.errors()
    )


def _merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = _merge(merged[key], value)
        merged[key] = value
    return merged


def with_base(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """The YAML of ``path`` on top of its ``base:`` chain (each relative to its own file)."""
    path = Path(path)
    if path.resolve() in seen:
        raise TorchCellError(f"training config {path}: its base: chain returns to itself")
    data = read_yaml(path, "training config")
    base = data.pop("base", None)
    if base is None:
        return data
    base_path = path.parent / base
    if not base_path.exists():
        raise TorchCellError(f"training config {path}: base {base_path} does not exist")
    return _merge(with_base(base_path, (*seen, path.resolve())), data)
