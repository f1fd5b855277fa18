"""The LightningModule that trains any model of ``torchcell.models`` on standardized labels.

Losses are computed on z-scored labels (training-split mean and std); validation and test
metrics are computed over the whole split at the end of the epoch, in the labels' own units,
overall and per number of perturbed genes. With several devices the predictions of every
rank are gathered before the metrics are computed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import lightning as L
import torch

from torchcell.cell.graph import CellGraph
from torchcell.cell.rewire import edgeless, rewired
from torchcell.errors import TorchCellError
from torchcell.losses import LabelDistribution, masked_mse
from torchcell.models import registry
from torchcell.train.config import TrainConfig
from torchcell.train.metrics import metrics_by_size, regression_metrics


class FromNull(torch.nn.Module):
    """A model whose output is added to a null's prediction (both standardized), so it learns
    the residual and starts, at zero output, from the null.

    The null's predictions of a dataset's samples are computed once and looked up by
    experiment id; a genotype of no dataset (``predict``) is scored from its genes and kinds.
    """

    def __init__(self, model: torch.nn.Module, null, data, columns: list[int], mean, std):
        super().__init__()
        self.model, self.null = model, null
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
        values = null.predict(data.samples).float()
        self.known = dict(zip(data.ids, values, strict=True))

    def offset(self, batch) -> torch.Tensor:
        rows = [self.known.get(i) for i in batch.experiment_id]
        if any(r is None for r in rows):
            from torchcell.cell.datamodule import Genotype

            genes = batch["gene"].perturbed.cpu().split(batch.num_perturbed.cpu().tolist())
            kinds = batch["gene"].perturbed_kind.cpu().split(batch.num_perturbed.cpu().tolist())
            env = batch.environment.cpu().tolist()
            fresh = self.null.predict(
                [
                    Genotype(g.tolist(), k.tolist(), e)
                    for g, k, e in zip(genes, kinds, env, strict=True)
                ]
            ).float()
            rows = [fresh[i] if r is None else r for i, r in enumerate(rows)]
        return (torch.stack(rows).to(self.mean.device) - self.mean) / self.std

    def forward(self, batch):
        out = self.model(batch)
        return dataclasses.replace(out, pred=out.pred + self.offset(batch))


def start_null(config: TrainConfig, data=None):
    """The best null of ``config``'s split (``baselines.BestNull``), fitted on its training
    split; ``data``: the ``CellDataModule`` when at hand."""
    from torchcell.train.baselines import BestNull, fitted_baselines
    from torchcell.train.loop import data_module

    data = data_module(config) if data is None else data
    columns = label_columns(config, data)
    return BestNull(fitted_baselines(data, columns, config.labels), data, columns, config.labels)


def label_columns(config: TrainConfig, data) -> list[int]:
    """The dataset columns of ``config.labels`` (a ``CellDataModule``'s)."""
    missing = [label for label in config.labels if label not in data.dataset.labels]
    if missing:
        raise TorchCellError(f"the dataset has no label(s) {missing}; it has {data.dataset.labels}")
    return [data.dataset.labels.index(label) for label in config.labels]


class CellModule(L.LightningModule):
    """A registered model with its label standardization, trained and scored by Lightning.

    Its hyperparameters (the training config, label columns, mean and std, the gene list and
    environments) are saved in every checkpoint, so ``CellModule.load_from_checkpoint(path)``
    rebuilds it: the cell graph is read from the config's dataset unless ``cell=`` is given.
    ``predict`` (``torchcell.train.predict``) scores genotypes given by gene name.
    """

    def __init__(
        self,
        config: dict,
        columns: list[int],
        label_mean: list[float],
        label_std: list[float],
        genes: list[str],
        environments: list[str],
        restored: dict | None = None,
        *,
        model: torch.nn.Module | None = None,
        cell=None,
        null=None,
        data=None,
        log: Callable[[str], None] = print,
        distribution: LabelDistribution | None = None,
    ):
        """``config``: a ``TrainConfig`` or its ``model_dump(mode="json")``. ``model``: an
        already built model (else built from the config's registered spec for ``cell``).
        ``null``/``data``: with ``start_from_null``, the null and the ``CellDataModule`` of the
        config's dataset (else fitted and opened here).
        ``distribution``: the standardized training labels' (for the distribution loss)."""
        super().__init__()
        self.config = TrainConfig.model_validate(
            config.model_dump() if isinstance(config, TrainConfig) else config
        )
        self.spec = registry.get(self.config.model)
        if cell is None:
            cell = CellGraph.load(self.config.dataset)
        if self.config.rewired_graph:
            cell = rewired(cell, self.config.split_seed)
        if self.config.edgeless_graph:
            cell = edgeless(cell)
        if model is None:
            model = self.spec.build(self.config, cell, len(columns), len(environments), restored)
        restore = self.spec.restore(model) if self.spec.restore else restored
        if self.config.start_from_null:  # a null fitted here when a checkpoint is loaded
            if data is None:
                from torchcell.train.loop import data_module

                data = data_module(self.config)
            null = start_null(self.config, data) if null is None else null
            model = FromNull(model, null, data, columns, label_mean, label_std)
        self.model, self.cell, self.columns, self.log_line = model, cell, list(columns), log
        self.labels, self.distribution = self.config.labels, distribution
        self.genes, self.environments = list(genes), list(environments)
        self.save_hyperparameters(
            {
                "config": self.config.model_dump(mode="json"),
                "columns": self.columns,
                "label_mean": [float(v) for v in label_mean],
                "label_std": [float(v) for v in label_std],
                "genes": self.genes,
                "environments": self.environments,
                "restored": restore,
            }
        )
        self.register_buffer("label_mean", torch.as_tensor(label_mean, dtype=torch.float32))
        self.register_buffer("label_std", torch.as_tensor(label_std, dtype=torch.float32))
        self.history: list[dict] = []
        self.test_result: dict = {}
        self._outputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self._train_loss: list[tuple[float, int]] = []

    @classmethod
    def from_data(cls, config: TrainConfig, data, **kwargs) -> CellModule:
        """A new module for ``config``'s labels on a ``CellDataModule``: the label columns, the
        training split's mean and std, the dataset's genes, environments and cell graph."""
        columns = label_columns(config, data)
        return cls(
            config, columns, data.standardizer.mean[columns].tolist(),
            data.standardizer.std[columns].tolist(), data.dataset.genes,
            data.dataset.manifest.environments, cell=data.dataset.cell_graph, data=data, **kwargs,
        )  # fmt: skip

    def forward(self, batch):
        return self.model(batch)

    def target(self, batch) -> torch.Tensor:
        return (batch.y[:, self.columns] - self.label_mean) / self.label_std

    def objective(self, output, target: torch.Tensor) -> torch.Tensor:
        loss = self.spec.loss or registry.default_loss
        total = loss(output, target, self.config, self.distribution)
        return total if output.extra_loss is None else total + output.extra_loss

    def predict(self, genotypes, environment: str | None = None, kinds=None):
        """Predicted labels of genotypes given by systematic gene name (see
        ``torchcell.train.predict.predict``)."""
        from torchcell.train.predict import predict

        return predict(self, genotypes, environment, kinds)

    def training_step(self, batch, batch_idx):
        loss = self.objective(self.model(batch), self.target(batch))
        self._train_loss.append((float(loss.detach()), batch.y.shape[0]))
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=batch.y.shape[0])
        return loss

    def configure_optimizers(self):
        make = self.spec.optimizer or registry.adamw
        return make(self.network, self.config)

    @property
    def network(self) -> torch.nn.Module:
        """The registered model itself (inside ``FromNull`` when it starts from the null)."""
        return self.model.model if isinstance(self.model, FromNull) else self.model

    # --- evaluation over whole splits ------------------------------------------------------

    def _collect(self, batch) -> None:
        self._outputs.append(
            (self.model(batch).pred.detach(), self.target(batch), batch.num_perturbed)
        )

    def validation_step(self, batch, batch_idx):
        self._collect(batch)

    def test_step(self, batch, batch_idx):
        self._collect(batch)

    def _gathered(self, loader) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Predictions, targets and genotype sizes of the whole split, each sample once.

        With several ranks, the distributed sampler deals sample i to rank i mod world and pads
        the last round with repeats; interleaving the ranks' outputs restores the dataset order
        and cutting at the dataset's length drops the repeats.
        """
        pred, target, sizes = (torch.cat(t) for t in zip(*self._outputs, strict=True))
        self._outputs = []
        if self.trainer.world_size > 1:
            n = len(loader.dataset)
            pred, target, sizes = (
                self.all_gather(t).transpose(0, 1).flatten(0, 1)[:n] for t in (pred, target, sizes)
            )
        return pred, target, sizes

    def in_label_units(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.label_std + self.label_mean

    def _evaluate(self, loader) -> dict:
        pred, target, sizes = self._gathered(loader)
        loss = float(masked_mse(pred, target))
        pred, target = self.in_label_units(pred).cpu(), self.in_label_units(target).cpu()
        return {
            "loss": loss,
            "metrics": regression_metrics(pred, target, self.labels),
            "by_size": metrics_by_size(pred, target, sizes.cpu(), self.labels),
            "pred": pred,
            "true": target,
        }

    def on_validation_epoch_end(self):
        if self.trainer.sanity_checking:
            self._outputs = []
            return
        result = self._evaluate(self.trainer.val_dataloaders)
        self.log("val_loss", result["loss"], sync_dist=False)
        for label, m in result["metrics"].items():
            self.log(f"val_pearson_{label}", m["pearson"])
        train = sum(v * n for v, n in self._train_loss) / max(
            sum(n for _, n in self._train_loss), 1
        )
        self._train_loss = []
        epoch = self.current_epoch + 1
        self.history.append(
            {
                "epoch": epoch,
                "train_loss": train,
                "val_loss": result["loss"],
                "val": result["metrics"],
            }
        )
        if self.trainer.is_global_zero:
            self.log_line(
                f"epoch {epoch:3d}  train loss {train:.4f}  val loss {result['loss']:.4f}  "
                + "  ".join(
                    f"val pearson {k} {v['pearson']:.3f}" for k, v in result["metrics"].items()
                )
            )

    def on_test_epoch_end(self):
        self.test_result = self._evaluate(self.trainer.test_dataloaders)
