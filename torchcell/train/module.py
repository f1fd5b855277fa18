"""The LightningModule that trains any model of ``torchcell.models`` on standardized labels.

Losses are computed on z-scored labels (training-split mean and std); validation and test
metrics are computed over the whole split at the end of the epoch, in the labels' own units,
overall and per number of perturbed genes. With several devices the predictions of every
rank are gathered before the metrics are computed.
"""

from __future__ import annotations

from collections.abc import Callable

import lightning as L
import torch

from torchcell.losses import LabelDistribution, combined_loss, dcell_loss, masked_mse
from torchcell.train.metrics import metrics_by_size, regression_metrics


class CellModule(L.LightningModule):
    def __init__(
        self,
        model: torch.nn.Module,
        config,
        columns: list[int],
        mean: torch.Tensor,
        std: torch.Tensor,
        log: Callable[[str], None] = print,
        distribution: LabelDistribution | None = None,
    ):
        """``distribution``: the standardized training labels' (for the distribution loss)."""
        super().__init__()
        self.model, self.config, self.columns, self.log_line = model, config, columns, log
        self.labels, self.distribution = config.labels, distribution
        self.register_buffer("label_mean", mean.clone())
        self.register_buffer("label_std", std.clone())
        self.history: list[dict] = []
        self.test_result: dict = {}
        self._outputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self._train_loss: list[tuple[float, int]] = []

    def forward(self, batch):
        return self.model(batch)

    def target(self, batch) -> torch.Tensor:
        return (batch.y[:, self.columns] - self.label_mean) / self.label_std

    def objective(self, output, target: torch.Tensor) -> torch.Tensor:
        if output.auxiliary is not None:  # DCell
            c = self.config.dcell
            return dcell_loss(output.pred, output.auxiliary, target, c.alpha)
        loss = self.config.loss
        regression = self.config.dango.loss if self.config.model == "dango" else "mse"
        total = combined_loss(
            output.pred, target, output.latent, loss.lambda_dist, loss.lambda_supcr,
            self.distribution, regression,
        )  # fmt: skip
        return total if output.extra_loss is None else total + output.extra_loss

    def training_step(self, batch, batch_idx):
        loss = self.objective(self.model(batch), self.target(batch))
        self._train_loss.append((float(loss.detach()), batch.y.shape[0]))
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=batch.y.shape[0])
        return loss

    def configure_optimizers(self):
        if self.config.model == "dcell":
            # DCell's L2 term λ·Σ‖w‖² on the linear weights only, as Adam's (coupled) weight
            # decay 2λ: the same gradient as adding it to the loss, without a pass over the
            # 10⁸ weights of the real GO size in every step's loss
            penalized = {id(p) for p in self.model.penalized_weights()}
            groups = [
                {
                    "params": [p for p in self.model.parameters() if id(p) in penalized],
                    "weight_decay": 2 * self.config.dcell.l2,
                },
                {"params": [p for p in self.model.parameters() if id(p) not in penalized]},
            ]
            return torch.optim.Adam(groups, lr=self.config.lr, weight_decay=0.0)
        return torch.optim.AdamW(
            self.model.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay
        )

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
