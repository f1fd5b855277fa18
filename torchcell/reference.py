"""The dataset spec and training config references in ``docs/``, written from the pydantic
models' fields (type, default, description), so the documentation cannot drift from the code.

``tc reference --out docs/reference`` rewrites them; a test fails when the files differ from what this
module renders.
"""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

FILES = {"dataset-spec.md": "spec", "training-config.md": "config"}


def _type(annotation) -> str:
    text = str(annotation).replace("typing.", "").replace("pathlib.", "")
    text = text.replace("<class '", "").replace("'>", "")
    text = text.replace("torchcell.store.spec.", "").replace("NoneType", "None")
    return text.replace("|", "\\|")


def _default(field) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, Path):
        value = str(value)
    return f"`{value!r}`" if not isinstance(value, str) else f"`{value}`"


def fields_table(model: type[BaseModel], prefix: str = "") -> list[str]:
    lines = ["| field | type | default | what it sets |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(
            f"| `{prefix}{name}` | {_type(field.annotation)} | {_default(field)} | {description} |"
        )
    return lines


def _doc(model: type) -> str:
    return inspect.cleandoc(model.__doc__ or "").strip()


def spec_reference() -> str:
    from torchcell.store.spec import DatasetSpec

    lines = [
        "# Dataset spec reference",
        "",
        "<!-- written by `tc reference --out docs/reference` from torchcell/store/spec.py; do not edit -->",
        "",
        "A dataset spec is a YAML file (`pipeline/datasets/`) that `tc materialize-dataset SPEC`",
        "turns into LMDB shards. Unknown keys are errors.",
        "",
        _doc(DatasetSpec),
        "",
        *fields_table(DatasetSpec),
    ]
    return "\n".join(lines) + "\n"


def config_reference() -> str:
    from torchcell.models import registry
    from torchcell.train.config import LossConfig, TrainConfig

    lines = [
        "# Training config reference",
        "",
        "<!-- written by `tc reference --out docs/reference` from torchcell/train/config.py and the models' "
        "registered sections; do not edit -->",
        "",
        "A training config is a YAML file (`pipeline/train/`) read by `tc train`, `tc compare`",
        "and `tc sweep`; command-line flags override it. Unknown keys are errors.",
        "",
        inspect.cleandoc(typing.cast(str, TrainConfig.__doc__)),
        "",
        "`base: FILE` (relative to the config) starts from another config: the file then states",
        "only what differs, and nested sections are merged key by key.",
        "",
        *fields_table(TrainConfig),
        "",
        "## `loss:`",
        "",
        *fields_table(LossConfig, "loss."),
    ]
    for name, spec in registry.specs().items():
        if not spec.config.__module__.startswith("torchcell."):
            continue  # a plugin's model, registered in this process: not the package's
        lines += ["", f"## `{name}:` ({spec.summary})", ""]
        if _doc(spec.config):
            lines += [_doc(spec.config), ""]
        if spec.config.model_fields:
            lines += fields_table(spec.config, f"{name}.")
        else:
            lines.append("No options of its own.")
    return "\n".join(lines) + "\n"


def render() -> dict[str, str]:
    """{file name under docs/: its text}."""
    return {"dataset-spec.md": spec_reference(), "training-config.md": config_reference()}


def write(folder: Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        (folder / name).write_text(text)
        written.append(folder / name)
    return written
