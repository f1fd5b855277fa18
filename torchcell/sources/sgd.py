"""SGD chromosomal features (SGD_features.tab): the genome's genes.

Format (SGD_features.README): 16 tab-separated columns, no header. One row per feature and
subfeature (CDS, intron, ...); genes are the rows whose feature type is ``ORF``, ``pseudogene``
or ends in ``_gene`` (tRNA_gene, snoRNA_gene, ...). Coordinates are chromosomal; for Crick-strand
features SGD writes start > stop, so ``start``/``end`` here are the smaller/larger of the two.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.errors import SourceError
from torchcell.schema import Gene
from torchcell.schema.records import SYSTEMATIC_NAME
from torchcell.sources.table import LINE, check_pattern, read_table, require, to_int
from torchcell.sources.validate import validate_sample

FILE_NAME = "SGD_features.tab"
URL = "https://downloads.yeastgenome.org/curation/chromosomal_feature/SGD_features.tab"

COLUMNS = [
    "sgdid", "feature_type", "qualifier", "feature_name", "standard_name", "aliases", "parent",
    "secondary_sgdids", "chromosome", "start", "stop", "strand", "genetic_position",
    "coordinate_version", "sequence_version", "description",
]  # fmt: skip

GENE_COLUMNS = [
    "id",
    "name",
    "feature_type",
    "qualifier",
    "chromosome",
    "start",
    "end",
    "strand",
    "aliases",
]


def is_gene_type(feature_type: pl.Expr) -> pl.Expr:
    return feature_type.is_in(["ORF", "pseudogene"]) | feature_type.str.ends_with("_gene")


def parse_genes(path: Path) -> pl.DataFrame:
    """Genes of ``SGD_features.tab`` as a frame with ``GENE_COLUMNS`` (plus ``_line``).

    Raises SourceError for a row with the wrong field count, a gene without a systematic name,
    non-integer coordinates, an unknown strand, or a systematic name listed twice.
    """
    table = read_table(path, COLUMNS)
    require(table, "feature_type", path)
    genes = table.filter(is_gene_type(pl.col("feature_type")))
    require(genes, "feature_name", path)
    check_pattern(genes, "feature_name", SYSTEMATIC_NAME, path, "a systematic name")
    check_pattern(genes, "strand", r"^[WC]$", path, "a strand (W or C)")
    start = to_int(genes, "start", path)
    stop = to_int(genes, "stop", path)
    genes = genes.with_columns(start.alias("start"), stop.alias("stop")).select(
        pl.col("feature_name").alias("id"),
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
    duplicated = genes["id"].is_duplicated()
    if duplicated.any():
        i = duplicated.arg_max()
        raise SourceError(
            path, int(genes[LINE][i]), "feature_name", f"gene {genes['id'][i]!r} is listed twice"
        )
    validate_sample(genes, path, GENE_COLUMNS, lambda row: Gene(**row))
    return genes
