"""Source catalog: selection, finding files by published name, fetching once with a checksum."""

from __future__ import annotations

import pytest

from torchcell.checksum import sha256_file
from torchcell.errors import TorchCellError
from torchcell.paths import SAMPLE_DIR
from torchcell.sources.catalog import SOURCES, fetch, find, select


def test_select_always_includes_the_genome():
    assert [s.key for s in select(["go", "gem"])] == ["genome", "go", "gem"]
    assert len(select(None)) == len(SOURCES)
    with pytest.raises(TorchCellError, match="unknown source"):
        select(["biogrid2030"])


def test_every_source_is_found_in_the_sample():
    for source in SOURCES.values():
        assert all(find(source, SAMPLE_DIR)), source.key


def test_fetch_downloads_once_and_checks_sha256(tmp_path):
    original = SAMPLE_DIR / "physical_BIM.txt"
    digest = sha256_file(original)
    url = original.resolve().as_uri()  # file:// — the same code path as https://, no network
    got = fetch(url, tmp_path / "cache", digest)
    assert got.read_bytes() == original.read_bytes()
    mtime = got.stat().st_mtime_ns
    assert (
        fetch(url, tmp_path / "cache", digest).stat().st_mtime_ns == mtime
    )  # cached, not fetched again
    got.write_text("tampered")
    with pytest.raises(TorchCellError, match="does not match the pinned sha256"):
        fetch(url, tmp_path / "cache", digest)
    with pytest.raises(TorchCellError, match="cannot download"):
        fetch((tmp_path / "missing.txt").as_uri(), tmp_path / "cache2")
