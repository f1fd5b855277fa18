"""File helpers shared by every stage: sha256 of a file, and writing JSON atomically."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_json(path: Path, data, **dumps) -> Path:
    """Write ``data`` as JSON to a temporary file beside ``path`` and rename it: a reader sees
    all of it or none. The temporary name is the writer's own (``<path>.<pid>.tmp``), so two
    processes writing one file (two ``tc build-db`` in one home, each writing ``plan.json``) do
    not rename each other's half-written file: the last rename wins, whole."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, **dumps))
    tmp.replace(path)
    return path
