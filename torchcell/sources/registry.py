"""Every source the build knows, one module each (PyG's ``raw_file_names`` + ``process`` idea).

A source module declares its ``Source`` (files, URLs and pins, citation, and the parse of
whichever of its files are present); adding a source is its module, its line here and its test.
The build, ``tc fetch-sources`` and the dataset specs read this registry, nothing else.
"""

from __future__ import annotations

from torchcell.errors import TorchCellError
from torchcell.schema import Dataset
from torchcell.sources import (
    biogrid,
    costanzo2010,
    costanzo2016,
    emap,
    gene_ontology,
    interactions,
    kuzmin,
    sga_pipeline,
    sgd,
    string_actions,
    yeast_gem,
)
from torchcell.sources.catalog import Source

SOURCES: dict[str, Source] = {
    s.key: s
    for s in (
        sgd.SOURCE,
        gene_ontology.SOURCE,
        yeast_gem.SOURCE,
        interactions.PHYSICAL,
        biogrid.SOURCE,
        interactions.REGULATION,
        string_actions.SOURCE,
        costanzo2016.SOURCE,
        costanzo2010.SOURCE,
        kuzmin.SOURCE_2018,
        kuzmin.SOURCE_2020,
        sga_pipeline.SOURCE,
        emap.SOURCE,
    )
}
DATASETS: dict[str, Dataset] = {d.name: d for s in SOURCES.values() for d in s.datasets}
SCALES: dict[str, str] = {d.name: s.scale for s in SOURCES.values() for d in s.datasets}


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


def dataset(name: str) -> Dataset:
    """The Dataset node of ``name``: as its source declares it, or (an E-MAP named by its
    file) with the name alone."""
    return DATASETS.get(name) or Dataset(name=name)


def dataset_scales(names: list[str]) -> dict[str, str]:
    """The interaction scale (``sga`` or ``emap``) of each named dataset that has one."""
    out = {}
    for name in names:
        scale = SCALES.get(name) or ("emap" if name.startswith("emap_") else None)
        if scale:
            out[name] = scale
    return out
