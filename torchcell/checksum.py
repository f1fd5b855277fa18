"""File helpers shared by every stage: sha256 of a file, writing JSON atomically, and JSON that
carries its own digest (so an edit by hand is found)."""

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


def json_digest(data) -> str:
    """sha256 of ``data`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def write_sealed_json(path: Path, data: dict) -> Path:
    """``data`` plus a ``digest`` of it, written atomically; read back with ``read_sealed_json``."""
    return write_json(path, {**data, "digest": json_digest(data)})


def read_sealed_json(path: Path) -> dict | None:
    """The data of a file written by ``write_sealed_json``; None when it is missing, not JSON or
    edited since (its digest differs)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    digest = data.pop("digest", None)
    return data if digest == json_digest(data) else None
