"""Source catalog: selection, finding files by published name, fetching once with a checksum."""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl
import pytest

from torchcell.checksum import sha256_file
from torchcell.errors import TorchCellError
from torchcell.paths import SAMPLE_DIR
from torchcell.sources import costanzo2016
from torchcell.sources.catalog import fetch, find
from torchcell.sources.registry import SOURCES, select
from torchcell.sources.table import LINE


def test_select_always_includes_the_genome():
    assert [s.key for s in select(["go", "gem"])] == ["genome", "go", "gem"]
    assert len(select(None)) == len(SOURCES)
    with pytest.raises(TorchCellError, match="unknown source"):
        select(["biogrid2030"])


NOT_IN_SAMPLE = {"biogrid", "kuzmin2020"}  # no offline copy: tests use tests/fixtures, a rename


def test_every_source_is_found_in_the_sample():
    for source in SOURCES.values():
        assert all(find(source, SAMPLE_DIR)) == (source.key not in NOT_IN_SAMPLE), source.key


def test_an_interrupted_download_is_never_an_input(tmp_path):
    """``SGA_NxN.txt.part`` matches ``SGA_*.txt*`` by name but is a download in progress."""
    (tmp_path / "SGA_NxN.txt.part").write_text("half a file")
    (tmp_path / "SGA_ExE.txt.gz").write_bytes(b"")
    assert [p.name for p in find(SOURCES["costanzo2016"], tmp_path)[1]] == ["SGA_ExE.txt.gz"]


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


def test_every_source_names_its_publisher_page_and_version():
    for source in SOURCES.values():
        assert source.home.startswith(("https://", "http://")), source.key
        assert source.version and source.citation and source.license, source.key


def test_pinned_sources_name_a_commit_and_a_checksum_per_file():
    pinned = [s for s in SOURCES.values() if s.sha256]
    assert {s.key for s in pinned} >= {"gem", "physical", "regulation", "costanzo2016"}
    for source in pinned:
        assert len(source.sha256) == len(source.urls)
        for url, digest in zip(source.urls, source.sha256, strict=True):
            assert digest is None or (len(digest) == 64 and int(digest, 16) >= 0)
            assert (
                url is None or digest is None or any(len(part) == 40 for part in url.split("/"))
            ), f"{url}: a pinned checksum needs a URL at a fixed commit"


def test_fetch_sources_saves_under_the_name_the_build_finds(tmp_path, monkeypatch):
    """A pinned file whose URL name differs from the published pattern is saved under it."""
    import torchcell.sources.catalog as catalog

    original = SAMPLE_DIR / "physical_BIM.txt"
    source = catalog.Source(
        "physical", ("physical_*.txt*",), ((tmp_path / "BIM.txt").as_uri(),), "v", "c", "l",
        (sha256_file(original),), ("physical_BIM.txt",),
    )  # fmt: skip
    (tmp_path / "BIM.txt").write_bytes(original.read_bytes())
    fetched, by_hand = catalog.fetch_sources([source], tmp_path / "sources")
    assert [p.name for p in fetched] == ["physical_BIM.txt"] and not by_hand
    assert all(find(source, tmp_path / "sources"))


def test_costanzo_workbook_matches_its_pin_and_reads_like_the_tsv(tmp_path):
    """The pinned Data File S1 workbook (real bytes) parses exactly like the sample's TSV rows."""
    workbook = Path(__file__).parent / "fixtures" / "strain_ids_and_single_mutant_fitness.xlsx"
    source = SOURCES["costanzo2016"]
    got = fetch(workbook.resolve().as_uri(), tmp_path, source.sha256[0])
    assert [p.name for p in find(source, tmp_path)[0]] == [got.name]
    full = costanzo2016.parse_single_mutants(got)
    sample = costanzo2016.parse_single_mutants(
        SAMPLE_DIR / "strain_ids_and_single_mutant_fitness.tsv"
    )
    assert full.experiments.height > 15_000  # 10,859 strains, most at both temperatures
    same = full.experiments.filter(pl.col("id").is_in(sample.experiments["id"].implode()))
    assert same.drop(LINE).sort("id").equals(sample.experiments.drop(LINE).sort("id"))


def test_fetch_sources_unpacks_tables_shipped_in_a_zip(tmp_path):
    """Costanzo 2016's pairwise tables come inside Data File S1's zip: extracted by name, once."""
    import torchcell.sources.catalog as catalog

    sga = (SAMPLE_DIR / "SGA_sample_GENERATED.txt").read_bytes()
    archive = tmp_path / "Data File S1.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Data File S1/SGA_NxN.txt", sga)
        zf.writestr("Data File S1/SGA_ExE.txt", sga)
        zf.writestr("Data File S1/README.pdf", b"%PDF")
    source = catalog.Source(
        "costanzo2016", ("SGA_*.txt*",), (archive.as_uri(),), "v", "c", "l", (None,), ("s1.zip",)
    )
    fetched, _ = catalog.fetch_sources([source], tmp_path / "sources")
    assert sorted(p.name for p in fetched) == ["SGA_ExE.txt", "SGA_NxN.txt"]
    assert all(p.read_bytes() == sga for p in fetched)
    assert [p.name for p in find(source, tmp_path / "sources")[0]] == ["SGA_ExE.txt", "SGA_NxN.txt"]
    assert costanzo2016.parse_double_mutants(fetched[0]).experiments.height > 0
    mtimes = [p.stat().st_mtime_ns for p in fetched]
    again, _ = catalog.fetch_sources([source], tmp_path / "sources")
    assert [p.stat().st_mtime_ns for p in again] == mtimes  # extracted once

    (tmp_path / "sources" / "s1.zip").write_bytes(b"truncated download")
    (tmp_path / "sources" / "SGA_NxN.txt").unlink()
    with pytest.raises(TorchCellError, match="not a readable zip archive"):
        catalog.fetch_sources([source], tmp_path / "sources")
    other = catalog.Source(
        "x", ("Kuzmin*.txt",), (archive.as_uri(),), "v", "c", "l", (None,), ("k.zip",)
    )
    with pytest.raises(TorchCellError, match="holds no file matching Kuzmin"):
        catalog.fetch_sources([other], tmp_path / "other")
    twice = tmp_path / "twice.zip"
    with zipfile.ZipFile(twice, "w") as zf:
        zf.writestr("a/SGA_NxN.txt", sga)
        zf.writestr("b/SGA_NxN.txt", b"other")
    with pytest.raises(TorchCellError, match="two files named alike"):
        catalog.unpack(twice, "SGA_*.txt*", tmp_path / "other")
