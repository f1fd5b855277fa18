"""What a result was made with: the code, the dataset and the machine (recorded in every run)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from torchcell.code_version import code_version


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo``), else what ``platform`` knows."""
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict:
    """CPU model and count, the GPU's name (None without one), OS and Python."""
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "gpu": gpu,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def provenance(dataset_manifest_sha256: str | None = None) -> dict:
    """``{"code": code_version(), "dataset_manifest": sha256, "machine": machine()}``."""
    return {
        "code": code_version(),
        "dataset_manifest": dataset_manifest_sha256,
        "machine": machine(),
    }
