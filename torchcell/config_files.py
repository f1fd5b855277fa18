"""Reading the project's YAML files (dataset specs, training configs) with one-line errors."""

from __future__ import annotations

from pathlib import Path

import yaml

from torchcell.errors import TorchCellError


def read_yaml(path: Path, what: str) -> dict:
    """The mapping in a YAML file; a missing file, a syntax error or a non-mapping is a
    TorchCellError naming the file (and the line of a syntax error)."""
    path = Path(path)
    if not path.exists():
        raise TorchCellError(f"{what} {path} does not exist")
    if path.is_dir():
        raise TorchCellError(f"{what} {path} is a folder, not a YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise TorchCellError(
            f"{what} {path}, line {line}: not UTF-8 text (byte 0x{err.object[err.start]:02x}); "
            "save it as UTF-8"
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise TorchCellError(f"{what} {path}{where}: not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TorchCellError(
            f"{what} {path} must be a mapping of fields, not {type(data).__name__}"
        )
    return data
