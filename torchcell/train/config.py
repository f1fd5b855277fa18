"""Training configs (YAML under pipeline/train/), validated by pydantic; CLI flags override."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from torchcell.config_files import read_yaml
from torchcell.errors import TorchCellError

MODELS = ("gene_set", "hetero_cell", "dcell", "dango")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HeteroCellConfig(_Strict):
    encoder: Literal["perturbed", "wildtype"] = Field(
        "perturbed",
        description="perturbed: message passing on each sample's perturbed cell (the design); "
        "wildtype: once on the wildtype, deletions only leave the pooling (cheaper variant)",
    )
    layers: int = Field(2, ge=0)
    heads: int = Field(4, ge=1)
    pooling: Literal["pma", "isab"] = "pma"
    gating: bool = True
    attention: bool = False
    string_modes: list[str] = Field(
        default_factory=list,
        description="STRING action modes (binding, reaction, ...) as further gene edge types",
    )
    gene_features: list[Literal["go", "degree"]] = Field(
        default_factory=list,
        description="per-gene inputs added to the learnable gene embeddings (go: GO term "
        "membership without IGI; degree: log network degrees); what a held-out gene brings",
    )


class DCellConfig(_Strict):
    """Defaults are the paper's; ``pipeline/train/dcell_layernorm.yaml`` lists a variant."""

    min_genes: int = Field(6, ge=1, description="GO terms with fewer genes are left out")
    exclude_evidence: list[str] = Field(
        default_factory=lambda: ["IGI"],
        description="GO evidence codes whose annotations are dropped (IGI: from genetic "
        "interactions, label leakage)",
    )
    merge_redundant: bool = Field(True, description="merge a term into its same-gene child")
    min_neurons: int = Field(20, ge=1)
    neuron_fraction: float = Field(0.3, gt=0)
    alpha: float = Field(0.3, ge=0, description="weight of the summed per-term auxiliary losses")
    l2: float = Field(0.0, ge=0, description="λ: L2 penalty on the linear weights (not biases)")
    init_bound: float | None = Field(
        0.001, gt=0, description="weights start U(±bound); null: U(±1/√fan_in)"
    )
    gene_embedding: int = Field(0, ge=0, description="0: binary mutant state (as published)")
    gene_input: Literal["gene", "term_count"] = Field(
        "gene",
        description="gene: one weight column per gene in its terms (as published; a gene no "
        "training sample mutates keeps its initial weights); term_count: a term reads how many "
        "of its own genes are mutant (a variant that speaks for held-out genes)",
    )
    term_bias: bool = Field(
        True,
        description="false: no bias in a term's Linear and layer norm, so an unperturbed term "
        "outputs zero (a variant; needs norm layer)",
    )
    norm: Literal["layer", "batch"] = Field(
        "batch",
        description="batch: BatchNorm as published; layer: per term over its neurons, "
        "identical in training and evaluation (BatchNorm's population statistics of sparse "
        "mutant states differ from a batch's)",
    )


class DangoConfig(_Strict):
    embeddings: Path = Field(
        Path("runs/pretrain/dango_embeddings.pt"), description="written by tc pretrain-dango"
    )
    heads: int = Field(4, ge=1)
    fine_tune: bool = Field(True, description="train the pre-trained embeddings with the model")
    reconstruction: float = Field(
        1.0, ge=0, description="weight of the networks' reconstruction term (with fine_tune)"
    )
    loss: Literal["log_cosh", "mse"] = Field("log_cosh", description="the regression loss")


class LossConfig(_Strict):
    lambda_dist: float = Field(0.0, ge=0)
    lambda_supcr: float = Field(0.0, ge=0)


class TrainConfig(_Strict):
    """What to train on, how, and where to write the results.

    Relative ``dataset``, ``output`` and embedding paths are resolved against the working
    directory.
    """

    dataset: Path = Field(description="a materialized dataset directory (has manifest.json)")
    output: Path = Field(description="where checkpoints, metrics and plots go")
    model: Literal["gene_set", "hetero_cell", "dcell", "dango"] = "gene_set"
    hidden: int = Field(64, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    epochs: int = Field(20, ge=1)
    patience: int | None = Field(None, ge=1, description="early stopping on validation loss")
    batch_size: int = Field(64, ge=1)
    lr: float = Field(3e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    seed: int = Field(0, description="initialisation, shuffling and dropout (not the split)")
    split_seed: int = Field(
        0, description="the train/val/test split: several seeds of a model share one split"
    )
    labels: list[str] = Field(default_factory=lambda: ["fitness", "gene_interaction"], min_length=1)
    split: Literal["random", "held_out_genes", "held_out_pairs"] = "held_out_genes"
    val_fraction: float = Field(0.15, gt=0, lt=0.5)
    test_fraction: float = Field(0.15, gt=0, lt=0.5)
    accelerator: Literal["cpu", "gpu", "auto"] = "cpu"
    devices: int = Field(1, ge=1)
    precision: Literal["32-true", "16-mixed", "bf16-mixed"] = "32-true"
    num_workers: int = Field(0, ge=0)
    score_train: bool = Field(
        True,
        description="score the training split with the kept checkpoint (metrics.json 'train', "
        "an overfitting check); a forward pass over every training sample: off for big runs",
    )
    hetero_cell: HeteroCellConfig = HeteroCellConfig()
    dcell: DCellConfig = DCellConfig()
    dango: DangoConfig = DangoConfig()
    loss: LossConfig = LossConfig()

    @classmethod
    def from_yaml(cls, path: Path, **overrides) -> TrainConfig:
        path = Path(path)
        data = read_yaml(path, "training config")
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise TorchCellError(f"training config {path} is invalid:\n{err}") from None
