"""Where each public source lives, what its files are called, and fetching them once.

A build reads a *source directory* that holds files under their published names; ``find``
returns the files of each selected source. ``fetch`` downloads a missing file into the cache
(``$TC_HOME/sources``) once and checks its sha256; a ``file://`` URL works the same way, which
is how tests exercise it without a network.
"""

from __future__ import annotations

import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from torchcell.checksum import sha256_file
from torchcell.errors import TorchCellError


@dataclass(frozen=True)
class Source:
    key: str
    """Name used by ``tc build-db --only``."""
    files: tuple[str, ...]
    """Glob patterns of the published file names, in the order the parser takes them."""
    urls: tuple[str | None, ...]
    """Where each file is published (None: no stable URL; download it by hand, see README)."""
    version: str
    citation: str
    license: str
    sha256: str | None = None
    """Pinned checksum of the file at ``url``; None: recorded in the Build node at first use."""


SOURCES: dict[str, Source] = {
    s.key: s
    for s in [
        Source("genome", ("SGD_features.tab*",),
               ("https://downloads.yeastgenome.org/curation/chromosomal_feature/SGD_features.tab",),
               "R64 (updated weekly)", "Cherry et al., NAR 2012 (SGD)", "SGD data, free with citation"),
        Source("go", ("gene_ontology.obo*|go-basic.obo*", "gene_association.sgd*|sgd.gaf*"),
               ("http://purl.obolibrary.org/obo/go/go-basic.obo",
                "http://current.geneontology.org/annotations/sgd.gaf.gz"), "GO release of the file",
               "Gene Ontology Consortium; SGD annotations", "CC BY 4.0"),
        Source("gem", ("yeast-GEM*.xml",),
               ("https://raw.githubusercontent.com/SysBioChalmers/yeast-GEM/main/model/yeast-GEM.xml",),
               "yeast-GEM 9.x (Yeast9)", "Zhang et al., Mol Syst Biol 2024", "CC BY 4.0"),
        Source("physical", ("physical_*.txt*",), (None,), "BioGRID ∪ IntAct ∪ MINT union (BIM)",
               "BioGRID (Oughtred et al. 2021), IntAct, MINT", "see each database"),
        Source("biogrid", ("BIOGRID-*.tab3.txt*",), (None,), "TAB 3.0 release file (organism S288C)",
               "BioGRID (Oughtred et al., Protein Sci 2021)", "MIT (BioGRID data)"),
        Source("regulation", ("RegulationTwoColumnTable_*.tsv*", "orftogene.txt"), (None, None),
               "YEASTRACT documented regulations", "Teixeira et al., NAR (YEASTRACT)", "YEASTRACT terms"),
        Source("costanzo2016", ("strain_ids_and_single_mutant_fitness.tsv*", "SGA_*.txt*"), (None, None),
               "Data File S1", "Costanzo et al., Science 353:aaf1420 (2016)", "cite the paper"),
        Source("kuzmin2018", ("Kuzmin2018_TableS1*.txt*",), (None,), "Table S1",
               "Kuzmin et al., Science 360:eaao1729 (2018)", "cite the paper"),
        Source("kuzmin2020", ("Kuzmin2020_TableS1*.txt*",), (None,), "Table S1 (794,774 rows)",
               "Kuzmin et al., Science 368:eaaz5667 (2020)", "cite the paper"),
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


def find(source: Source, source_dir: Path) -> list[list[Path]]:
    """For each file pattern of ``source`` (``a|b`` = alternatives), the matching files."""
    found = []
    for pattern in source.files:
        matches = sorted({p for alt in pattern.split("|") for p in Path(source_dir).glob(alt)})
        found.append(matches)
    return found


def fetch(url: str, cache_dir: Path, sha256: str | None = None) -> Path:
    """Download ``url`` into ``cache_dir`` once (``file://`` works too) and check its sha256."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    dest = cache_dir / url.rstrip("/").rsplit("/", 1)[-1]
    if not dest.exists():
        tmp = dest.with_name(dest.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, tmp.open("wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise TorchCellError(f"cannot download {url}: {err}") from None
        tmp.replace(dest)
    if sha256 is not None and sha256_file(dest) != sha256:
        raise TorchCellError(
            f"{dest} does not match the pinned sha256 {sha256}; delete it to download again"
        )
    return dest


def fetch_sources(sources: list[Source], dest: Path) -> tuple[list[Path], list[str]]:
    """Download every file that has a URL into ``dest``; return them and the files to get by hand."""
    fetched, by_hand = [], []
    for source in sources:
        for pattern, url in zip(source.files, source.urls, strict=True):
            if url is None:
                by_hand.append(f"{source.key}: {pattern.split('|')[0]} ({source.citation})")
            else:
                fetched.append(fetch(url, dest, source.sha256))
    return fetched, by_hand
