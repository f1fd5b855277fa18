"""The documentation: generated references current, README short, no development notes."""

from __future__ import annotations

import re
from pathlib import Path

from torchcell import reference

ROOT = Path(__file__).resolve().parent.parent


def test_spec_and_config_references_are_current():
    """Rewrite them with `tc reference --out docs/reference` when this fails."""
    for name, text in reference.render().items():
        path = ROOT / "docs" / "reference" / name
        assert path.exists() and path.read_text() == text, f"{path} is stale"


def test_every_spec_and_config_field_is_described():
    for name, text in reference.render().items():
        undescribed = [line for line in text.splitlines() if re.match(r"\| `.*\|  \|$", line)]
        assert not undescribed, f"{name}: fields without a description: {undescribed}"
