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


def test_results_page_is_the_one_its_kept_records_give(tmp_path, monkeypatch):
    """docs/results.md and the README headline are what `make report` writes from the compare
    records kept under docs/results/compare/ (rerun `make report` when this fails). Lines that
    flag rows as trained by code changed since are left out: they follow the checkout."""
    from torchcell.train.report import report

    monkeypatch.chdir(ROOT)
    folders = sorted(f.parent for f in Path("docs/results/compare").glob("*/compare.json"))
    assert folders, "no compare records under docs/results/compare/"
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    out = tmp_path / "results.md"
    report(folders, out, readme)

    def page(text: str) -> list[str]:
        stale = ("- **the code that produces these rows changed since**",
                 "- **rows trained by code that changed since**")  # fmt: skip
        return [line for line in text.splitlines() if not line.startswith(stale)]

    written = out.read_text().replace(str(out), "docs/results.md")
    assert page(written) == page((ROOT / "docs" / "results.md").read_text())
    assert (
        readme.read_text().replace(str(out), "docs/results.md") == (ROOT / "README.md").read_text()
    )
    for folder in folders:
        assert (ROOT / "docs" / "results" / f"{folder.name}.png").exists(), folder.name
