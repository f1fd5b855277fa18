"""What a source is (``Source``), finding its files by published name, and fetching them once.

Each source module (``torchcell/sources/<name>.py``) declares its ``Source``: the files, their
URLs and pins, the citation, and how the present files parse; ``torchcell.sources.registry``
lists them. A build reads a *source directory* that holds files under their published names;
``find`` returns the files of each selected source. ``fetch`` downloads a missing file into the cache
(``$TC_HOME/sources``) once and checks its sha256; a ``file://`` URL works the same way, which
is how tests exercise it without a network. Tables a publisher ships only inside a zip are
extracted from it by name (``unpack``).
"""

from __future__ import annotations

import shutil
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from torchcell.checksum import sha256_file
from torchcell.errors import TorchCellError

if TYPE_CHECKING:
    import polars as pl

    from torchcell.schema import Dataset
    from torchcell.sources.experiments import ExperimentTables
    from torchcell.sources.parts import GraphPart
    from torchcell.sources.table import Rejects


@dataclass(frozen=True)
class SourceFiles:
    """What a source's parser gets: its present files (per pattern; a list may be empty),
    the genome's genes, and where bad rows go."""

    paths: list[list[Path]]
    genes: pl.DataFrame
    rejects: Rejects

    def first(self, index: int) -> Path | None:
        return self.paths[index][0] if self.paths[index] else None


@dataclass(frozen=True)
class Source:
    key: str
    """Name used by ``tc build-db --only``."""
    files: tuple[str, ...]
    """Glob patterns of the published file names, in the order the parser takes them."""
    urls: tuple[str | None, ...]
    """Where each file is published (None: no stable URL; get it by hand from ``home``)."""
    version: str
    citation: str
    license: str
    sha256: tuple[str | None, ...] = ()
    """Pinned checksum of each file at its URL (a URL at a fixed commit); None or absent for a
    URL that moves with each release (its checksum is recorded in the Build node at use)."""
    saved_as: tuple[str | None, ...] = ()
    """The name a downloaded file gets where the URL's own name does not match ``files``."""
    home: str = ""
    """The publisher's page for this release: where to get files that have no stable URL."""
    load: Callable[[SourceFiles], list[GraphPart]] | None = None
    """Whole-file parse of the present files into graph parts (genome, networks, ...)."""
    screens: Callable[[SourceFiles, tuple[int, int] | None], list[ExperimentTables]] | None = None
    """Parse of a screen's present files, rows ``(i, n)``: the i-th of n slices of each file."""
    requires: tuple[int, ...] = (0,)
    """Indices of ``files`` without which nothing of the source can be parsed; any other file
    may be absent (the build loads what is present and names what is not)."""
    datasets: tuple[Dataset, ...] = ()
    """The Dataset nodes its experiments belong to."""
    scale: str | None = None
    """The interaction scale of its datasets: ``sga`` (ε, τ) or ``emap`` (S-score)."""


GITHUB = "https://raw.githubusercontent.com"


PARTIAL = ".part"
"""Suffix of a download or extraction in progress; such a file is never an input."""


def find(source: Source, source_dir: Path) -> list[list[Path]]:
    """For each file pattern of ``source`` (``a|b`` = alternatives), the matching files."""
    names = [p for p in Path(source_dir).iterdir() if not p.name.endswith(PARTIAL)]
    return [sorted(p for p in names if matches(p.name, pattern)) for pattern in source.files]


def save(stream: BinaryIO, dest: Path) -> None:
    """Write ``stream`` to ``dest`` through a ``.part`` file that is renamed only when complete."""
    tmp = dest.with_name(dest.name + PARTIAL)
    try:
        with tmp.open("wb") as out:
            shutil.copyfileobj(stream, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(dest)


def fetch(url: str, cache_dir: Path, sha256: str | None = None, name: str | None = None) -> Path:
    """Download ``url`` into ``cache_dir`` once (``file://`` works too) and check its sha256.

    The file keeps the URL's name, or ``name``."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    dest = cache_dir / (name or url.rstrip("/").rsplit("/", 1)[-1])
    if not dest.exists():
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                save(response, dest)
        except OSError as err:
            raise TorchCellError(f"cannot download {url}: {err}") from None
    if sha256 is not None and sha256_file(dest) != sha256:
        raise TorchCellError(
            f"{dest} does not match the pinned sha256 {sha256}; delete it to download again"
        )
    return dest


def fetch_sources(sources: list[Source], dest: Path) -> tuple[list[Path], list[str]]:
    """Download every file that has a URL into ``dest``; return them and the files to get by hand."""
    fetched, by_hand = [], []
    for source in sources:
        for i, (pattern, url) in enumerate(zip(source.files, source.urls, strict=True)):
            if url is None:
                by_hand.append(
                    f"{source.key}: {pattern.split('|')[0]} ({source.citation}; {source.home})"
                )
            else:
                pin = source.sha256[i] if i < len(source.sha256) else None
                name = source.saved_as[i] if i < len(source.saved_as) else None
                path = fetch(url, dest, pin, name)
                if path.suffix == ".zip" and not matches(path.name, pattern):
                    fetched.extend(unpack(path, pattern, dest))
                else:
                    fetched.append(path)
    return fetched, by_hand


def matches(name: str, pattern: str) -> bool:
    """Whether a file name matches a ``files`` pattern (``a|b``: alternatives)."""
    return any(fnmatch(name, alternative) for alternative in pattern.split("|"))


def unpack(archive: Path, pattern: str, dest: Path) -> list[Path]:
    """Extract, once, the members of a zip whose file name matches ``pattern`` into ``dest``.

    Publishers ship some tables only inside an archive (Costanzo 2016 Data File S1); the members
    keep their own names, whatever folder they sit in inside the archive.
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            named = [(PurePosixPath(m.filename).name, m) for m in zf.infolist() if not m.is_dir()]
            members = [(name, m) for name, m in named if matches(name, pattern)]
            if not members:
                raise TorchCellError(f"{archive} holds no file matching {pattern}")
            names = [name for name, _ in members]
            if len(set(names)) < len(names):
                raise TorchCellError(f"{archive} holds two files named alike: {sorted(names)}")
            for name, member in members:
                if not (Path(dest) / name).exists():
                    with zf.open(member) as stream:
                        save(stream, Path(dest) / name)
            return [Path(dest) / name for name in names]
    except zipfile.BadZipFile as err:
        raise TorchCellError(
            f"{archive} is not a readable zip archive ({err}); delete it to download again"
        ) from None
