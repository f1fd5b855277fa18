"""SGD chromosomal features (SGD_features.tab): the genome's genes.

Format (SGD_features.README): 16 tab-separated columns, no header. One row per feature and
subfeature (CDS, intron, ...); genes are the rows whose feature type is ``ORF``, ``pseudogene``,
``blocked_reading_frame`` or ends in ``_gene`` (tRNA_gene, snoRNA_gene, ...). Coordinates are
chromosomal; for Crick-strand features SGD writes start > stop, so ``start``/``end`` here are
the smaller and the larger of the two.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.schema import Gene
from torchcell.schema.records import SYSTEMATIC_NAME
from torchcell.sources.catalog import Source, SourceFiles
from torchcell.sources.parts import GraphPart
from torchcell.sources.table import (
    LINE,
    STRICT,
    Rejects,
    cast,
    check_pattern,
    read_table,
    repeated,
    require,
)
from torchcell.sources.validate import validate_sample

COLUMNS = [
    "sgdid", "feature_type", "qualifier", "feature_name", "standard_name", "aliases", "parent",
    "secondary_sgdids", "chromosome", "start", "stop", "strand", "genetic_position",
    "coordinate_version", "sequence_version", "description",
]  # fmt: skip

GENE_COLUMNS = [
    "id", "sgdid", "name", "feature_type", "qualifier", "chromosome", "start", "end", "strand", "aliases",
]  # fmt: skip


def is_gene_type(feature_type: pl.Expr) -> pl.Expr:
    return feature_type.is_in(
        ["ORF", "pseudogene", "blocked_reading_frame"]
    ) | feature_type.str.ends_with("_gene")


def parse_genes(path: Path, rejects: Rejects = STRICT) -> pl.DataFrame:
    """Genes of ``SGD_features.tab`` as a frame with ``GENE_COLUMNS`` (plus ``_line``).

    Bad rows: wrong field count, a gene without a systematic name, non-integer coordinates, an
    unknown strand, a systematic name listed twice.
    """
    table = read_table(path, COLUMNS, rejects=rejects)
    table = require(table, "feature_type", path, rejects)
    genes = table.filter(is_gene_type(pl.col("feature_type")))
    genes = require(genes, "feature_name", path, rejects)
    genes = check_pattern(
        genes, "feature_name", SYSTEMATIC_NAME, path, "a systematic name", rejects
    )
    genes = check_pattern(genes, "strand", r"^[WC]$", path, "a strand (W or C)", rejects)
    genes = cast(genes, "start", path, pl.Int64, rejects=rejects)
    genes = cast(genes, "stop", path, pl.Int64, rejects=rejects)
    genes = rejects.drop(
        genes, repeated(genes, "feature_name"), path, "feature_name", "gene {value} is listed twice"
    )
    genes = genes.select(
        pl.col("feature_name").alias("id"),
        "sgdid",
        pl.col("standard_name").alias("name"),
        "feature_type",
        "qualifier",
        "chromosome",
        pl.min_horizontal("start", "stop").alias("start"),
        pl.max_horizontal("start", "stop").alias("end"),
        "strand",
        pl.col("aliases").str.split("|").fill_null([]).alias("aliases"),
        LINE,
    )
    validate_sample(genes, path, GENE_COLUMNS, lambda row: Gene(**row))
    return genes


def _load(files: SourceFiles) -> list[GraphPart]:
    return [GraphPart(nodes={"Gene": files.genes})]


SOURCE = Source(
    "genome", ("SGD_features.tab*",),
    ("https://downloads.yeastgenome.org/curation/chromosomal_feature/SGD_features.tab",),
    "R64 (updated weekly)", "Cherry et al., NAR 2012 (SGD)", "SGD data, free with citation",
    home="https://downloads.yeastgenome.org/curation/chromosomal_feature/", load=_load,
)  # fmt: skip
