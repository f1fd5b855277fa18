"""Where each public source lives, what its files are called, and fetching them once.

A build reads a *source directory* that holds files under their published names; ``find``
returns the files of each selected source. ``fetch`` downloads a missing file into the cache
(``$TC_HOME/sources``) once and checks its sha256; a ``file://`` URL works the same way, which
is how tests exercise it without a network. Tables a publisher ships only inside a zip are
extracted from it by name (``unpack``).
"""

from __future__ import annotations

import shutil
import urllib.request
import zipfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from torchcell.checksum import sha256_file
from torchcell.errors import TorchCellError


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


GITHUB = "https://raw.githubusercontent.com"

SOURCES: dict[str, Source] = {
    s.key: s
    for s in [
        Source("genome", ("SGD_features.tab*",),
               ("https://downloads.yeastgenome.org/curation/chromosomal_feature/SGD_features.tab",),
               "R64 (updated weekly)", "Cherry et al., NAR 2012 (SGD)", "SGD data, free with citation",
               home="https://downloads.yeastgenome.org/curation/chromosomal_feature/"),
        Source("go", ("gene_ontology.obo*|go-basic.obo*", "gene_association.sgd*|sgd.gaf*"),
               ("http://purl.obolibrary.org/obo/go/go-basic.obo",
                "http://current.geneontology.org/annotations/sgd.gaf.gz"), "GO release of the file",
               "Gene Ontology Consortium; SGD annotations", "CC BY 4.0",
               home="https://geneontology.org/docs/download-ontology/"),
        Source("gem", ("yeast-GEM*.xml|yeast-GEM*.mat",),
               (f"{GITHUB}/SysBioChalmers/yeast-GEM/a2a672e367ae22eaf9a44228d6ad69eb4ce5f6b6/model/yeast-GEM.mat",),
               "yeast-GEM 9.0.2 (Yeast9)", "Zhang et al., Mol Syst Biol 2024", "CC BY 4.0",
               ("a4949fd2bf13ce13a357fbde56c389fa6b53492065352ac701848dc5ea714927",),
               home="https://github.com/SysBioChalmers/yeast-GEM/releases/tag/v9.0.2"),
        Source("physical", ("physical_*.txt*",),
               (f"{GITHUB}/YSHebron/scl-bioinfo/f972e12ddb55024bffebe14b4b78fafa1c24eab5/data/Yeast/Integrated/BIM.txt",),
               "BioGRID ∪ IntAct ∪ MINT union (BIM)", "BioGRID (Oughtred et al. 2021), IntAct, MINT",
               "see each database", ("75a4be9d44dded421bd0f102f4471181b3e252460ec69d00f05c768ed681558f",),
               ("physical_BIM.txt",),
               home="https://github.com/YSHebron/scl-bioinfo"),
        Source("biogrid", ("BIOGRID-*.tab3.txt*",), (None,), "TAB 3.0 release file (organism S288C)",
               "BioGRID (Oughtred et al., Protein Sci 2021)", "MIT (BioGRID data)",
               home="https://downloads.thebiogrid.org/BioGRID/Release-Archive/"),
        Source("regulation", ("RegulationTwoColumnTable_*.tsv*", "orftogene.txt"),
               (f"{GITHUB}/itotoma/Yeastract_TF_Network/d9fb670035860edd6f97d953b587e4e0b119b2f2/RegulationTwoColumnTable_both.tsv",
                f"{GITHUB}/itotoma/Yeastract_TF_Network/d9fb670035860edd6f97d953b587e4e0b119b2f2/orftogene.txt"),
               "YEASTRACT documented regulations (DNA binding and expression, 2021 export)",
               "Teixeira et al., NAR (YEASTRACT)", "YEASTRACT terms",
               ("ea0a6d4248ee19e914fce0e91718c8800f7ca7b9ee1ae1c6c09b913e1cd4bd1b",
                "1ea35d0b4f10182e2ed7590360d32744d0a7e393bf172eb17a421107f60355f5"),
               home="http://www.yeastract.com/formregmatrix.php"),
        Source("costanzo2016",
               ("strain_ids_and_single_mutant_fitness.tsv*|strain_ids_and_single_mutant_fitness.xlsx",
                "SGA_*.txt*"),
               (f"{GITHUB}/SATAY-LL/LaanLab-SATAY-DataAnalysis/423e2da4fbe07fb7be219c5c1eb4ab724fecb694/Python_scripts/strain_ids_and_single_mutant_fitness.xlsx",
                "https://thecellmap.org/costanzo2016/data_files/Raw%20genetic%20interaction%20datasets:%20Pair-wise%20interaction%20format.zip"),
               "Data File S1", "Costanzo et al., Science 353:aaf1420 (2016)", "cite the paper",
               ("6836cf8257b9ee2037713b3d279ed723852cfb60fb0db1a547e41af01b1b1174", None),
               (None, "costanzo2016_data_file_S1_pairwise.zip"),
               home="https://thecellmap.org/costanzo2016/"),
        Source("kuzmin2018", ("Kuzmin2018_TableS1*.txt*",), (None,), "Table S1",
               "Kuzmin et al., Science 360:eaao1729 (2018)", "cite the paper",
               home="https://doi.org/10.1126/science.aao1729"),
        Source("kuzmin2020", ("Kuzmin2020_TableS1*.txt*",), (None,), "Table S1 (794,774 rows)",
               "Kuzmin et al., Science 368:eaaz5667 (2020)", "cite the paper",
               home="https://doi.org/10.1126/science.aaz5667"),
    ]
}  # fmt: skip


def select(only: list[str] | None) -> list[Source]:
    """The sources to build: all, or those named in ``only`` (the genome always)."""
    if not only:
        return list(SOURCES.values())
    unknown = sorted(set(only) - set(SOURCES))
    if unknown:
        raise TorchCellError(
            f"unknown source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}"
        )
    return [SOURCES["genome"], *(SOURCES[k] for k in SOURCES if k in only and k != "genome")]


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
