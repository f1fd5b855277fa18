"""Label standardization: z-scores from the training split, stored, invertible for reporting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass
class LabelStandardizer:
    labels: list[str]
    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def fit(cls, labels: list[str], y: torch.Tensor) -> LabelStandardizer:
        """Per-label mean and std over the rows of ``y`` (NaN = not measured, skipped)."""
        mean = torch.nanmean(y, dim=0)
        std = torch.sqrt(torch.nanmean((y - mean) ** 2, dim=0))
        mean = torch.nan_to_num(mean, nan=0.0)
        std = torch.nan_to_num(std, nan=1.0).clamp_min(1e-8)
        return cls(labels, mean, std)

    def transform(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.mean.to(y.device)) / self.std.to(y.device)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.std.to(z.device) + self.mean.to(z.device)

    def save(self, path: Path) -> None:
        Path(path).write_text(
            json.dumps(
                {"labels": self.labels, "mean": self.mean.tolist(), "std": self.std.tolist()},
                indent=2,
            )
        )

    @classmethod
    def load(cls, path: Path) -> LabelStandardizer:
        raw = json.loads(Path(path).read_text())
        return cls(raw["labels"], torch.tensor(raw["mean"]), torch.tensor(raw["std"]))
