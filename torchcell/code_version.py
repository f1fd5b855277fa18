"""Which code is running: the package version and, in a git checkout, its commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from torchcell import __version__

ROOT = Path(__file__).resolve().parent.parent


def code_version(ignore: tuple[str, ...] = ()) -> dict:
    """``{"version", "commit", "dirty"}``; commit and dirty are None outside a git checkout.
    ``ignore``: paths (from the repository root) whose uncommitted changes do not count."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    excluded = [f":(exclude){path}" for path in ignore]
    status = (
        git("status", "--porcelain", "--untracked-files=no", "--", ".", *excluded)
        if commit
        else None
    )
    return {"version": __version__, "commit": commit, "dirty": bool(status) if commit else None}


def describe(ignore: tuple[str, ...] = ()) -> str:
    """``0.1.0 (commit 1a2b3c4d5e6f, with uncommitted changes)`` or ``0.1.0``."""
    v = code_version(ignore)
    if v["commit"] is None:
        return v["version"]
    dirty = ", with uncommitted changes" if v["dirty"] else ""
    return f"{v['version']} (commit {v['commit'][:12]}{dirty})"
