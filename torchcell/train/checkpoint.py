"""``model.pt``: the one checkpoint format of a run (a Lightning checkpoint of ``CellModule``
with its hyperparameters), and reading it with an error that says what to do."""

from __future__ import annotations

from pathlib import Path

import torch

from torchcell.errors import TorchCellError

CHECKPOINT = "model.pt"
KEYS = ("hyper_parameters", "state_dict")


def checkpoint_path(run: Path | str) -> Path:
    """A run folder's ``model.pt``, or the file itself."""
    run = Path(run)
    return run / CHECKPOINT if run.is_dir() else run


def read_checkpoint(run: Path | str) -> dict:
    """The contents of a ``model.pt`` written by ``tc train``; a TorchCellError naming the file
    and what to do when it is missing (a run killed before its end), truncated or another file."""
    path = checkpoint_path(run)
    if not path.exists():
        folder = path.parent if path.name == CHECKPOINT else None
        if folder is not None and folder.is_dir():
            raise TorchCellError(
                f"{folder} holds no {CHECKPOINT}: the tc train that wrote it did not finish "
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
    missing = [k for k in KEYS if not isinstance(raw, dict) or k not in raw]
    if not missing and "config" not in raw["hyper_parameters"]:
        missing = ["hyper_parameters.config"]
    if missing:
        raise TorchCellError(
            f"{path} is not a {CHECKPOINT} written by tc train (it lacks {', '.join(missing)}); "
            f"pass the run folder or its {CHECKPOINT}"
        )
    return raw
