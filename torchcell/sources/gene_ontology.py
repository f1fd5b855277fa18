"""Gene Ontology: the DAG (OBO 1.2/1.4) and SGD's annotations (GAF 2.x).

OBO: ``[Term]`` stanzas of ``tag: value`` lines; we keep ``id``, ``name``, ``namespace``,
``is_obsolete`` and the parent links ``is_a: GO:…`` and ``relationship: part_of GO:…``. Edges
point child → parent. Obsolete terms are left out (and counted).

GAF: 17 tab-separated columns after ``!`` comment lines. Column 2 is the SGDID of the annotated
object, mapped to a gene through the genome; column 4 may hold ``NOT`` (a negated annotation,
left out and counted); column 5 is the GO id, 7 the evidence code. Annotations of one gene to
one term with one evidence code become one ``ANNOTATED`` link that keeps all their references.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.sources.catalog import Source, SourceFiles
from torchcell.sources.parts import GraphPart
from torchcell.sources.table import (
    LINE,
    STRICT,
    Rejects,
    check_pattern,
    content_lines,
    read_lines,
    read_table,
    repeated,
    require,
)

GO_ID = r"^GO:\d{7}$"
NAMESPACES = ["biological_process", "molecular_function", "cellular_component"]

GAF_COLUMNS = [
    "db", "sgdid", "symbol", "qualifier", "go_id", "reference", "evidence", "with_from", "aspect",
    "object_name", "synonyms", "object_type", "taxon", "date", "assigned_by", "extension", "product_form",
]  # fmt: skip


def parse_ontology(path: Path, rejects: Rejects = STRICT) -> GraphPart:
    """``GOTerm`` nodes and ``IS_A`` / ``PART_OF`` edges (child → parent) from an OBO file."""
    lines = content_lines(read_lines(path))
    lines = lines.with_columns(
        pl.col("text").str.starts_with("[").cum_sum().alias("_stanza"),
        pl.when(pl.col("text").str.starts_with("["))
        .then(pl.col("text"))
        .forward_fill()
        .alias("_kind"),
    )
    tags = lines.filter(
        (pl.col("_kind") == "[Term]") & ~pl.col("text").str.starts_with("[")
    ).with_columns(
        pl.col("text").str.extract(r"^([^:]+):", 1).alias("tag"),
        pl.col("text").str.extract(r"^[^:]+:\s*(.*?)\s*(?:!.*)?$", 1).alias("value"),
    )
    first = lambda tag: pl.col("value").filter(pl.col("tag") == tag).first()  # noqa: E731
    terms = tags.group_by("_stanza", maintain_order=True).agg(
        first("id").alias("id"),
        first("name").alias("name"),
        first("namespace").alias("namespace"),
        (first("is_obsolete") == "true").fill_null(False).alias("obsolete"),
        pl.col(LINE).min(),
    )
    for column in ("id", "name", "namespace"):
        terms = require(terms, column, path, rejects)
    terms = check_pattern(terms, "id", GO_ID, path, "a GO id like GO:0008150", rejects)
    terms = check_pattern(
        terms, "namespace", "^(" + "|".join(NAMESPACES) + ")$", path, "a GO namespace", rejects
    )
    terms = rejects.drop(terms, repeated(terms, "id"), path, "id", "term {value} is defined twice")
    obsolete = terms.filter(pl.col("obsolete"))
    terms = terms.filter(~pl.col("obsolete"))

    links = tags.filter(
        (pl.col("tag") == "is_a")
        | ((pl.col("tag") == "relationship") & pl.col("value").str.starts_with("part_of "))
    ).join(terms.select("_stanza", pl.col("id").alias("start")), on="_stanza")
    links = links.select(
        "start",
        pl.col("value").str.split(" ").list.last().alias("end"),
        pl.when(pl.col("tag") == "is_a")
        .then(pl.lit("IS_A"))
        .otherwise(pl.lit("PART_OF"))
        .alias("type"),
        LINE,
    )
    known = terms["id"].implode()
    links = rejects.drop(
        links,
        ~links["end"].is_in(known),
        path,
        "is_a",
        "parent {value} is not a current term",
        values="end",
    )
    relationships = {
        rel: links.filter(pl.col("type") == rel).select("start", "end")
        for rel in ("IS_A", "PART_OF")
    }
    return GraphPart(
        nodes={"GOTerm": terms.select("id", "name", "namespace")},
        relationships=relationships,
        notes={"obsolete GO terms left out": obsolete.height},
        obsolete=obsolete["id"].to_list(),
    )


def parse_annotations(
    path: Path,
    genes: pl.DataFrame,
    ontology: GraphPart,
    rejects: Rejects = STRICT,
) -> GraphPart:
    """``ANNOTATED`` gene → term links from a GAF file.

    ``genes`` maps SGDIDs to genes (``sgdid``, ``id``); ``ontology`` is ``parse_ontology``'s
    result (current terms, and the obsolete ids in ``ontology.obsolete``).
    An annotation to a term the ontology has made obsolete is left out and counted; one to an
    id the ontology does not know at all, or to an SGDID that is no gene, is a bad row.
    """
    table = read_table(path, GAF_COLUMNS, comment_prefix="!", rejects=rejects)
    for column in ("sgdid", "go_id", "evidence"):
        table = require(table, column, path, rejects)
    table = check_pattern(table, "go_id", GO_ID, path, "a GO id", rejects)
    negated = table["qualifier"].fill_null("").str.contains(r"(^|\|)NOT($|\|)")
    table = table.filter(~negated)
    table = table.join(genes.select("sgdid", pl.col("id").alias("start")), on="sgdid", how="left")
    table = rejects.drop(
        table, table["start"].is_null(), path, "sgdid", "{value} is not a gene of the genome"
    )
    is_obsolete = table["go_id"].is_in(pl.Series(ontology.obsolete).implode())
    table = table.filter(~is_obsolete)
    current = ontology.nodes["GOTerm"]["id"].implode()
    table = rejects.drop(
        table,
        ~table["go_id"].is_in(current),
        path,
        "go_id",
        "{value} is not a term of the ontology",
    )
    annotated = (
        table.group_by("start", "go_id", "evidence", maintain_order=True)
        .agg(pl.col("reference").drop_nulls().alias("references"))
        .select("start", pl.col("go_id").alias("end"), "evidence", "references")
    )
    return GraphPart(
        relationships={"ANNOTATED": annotated},
        notes={
            "negated GO annotations (NOT) left out": int(negated.sum()),
            "GO annotations to obsolete terms left out": int(is_obsolete.sum()),
        },
    )


def _load(files: SourceFiles) -> list[GraphPart]:
    ontology = parse_ontology(files.first(0), files.rejects)
    annotations = files.first(1)
    if annotations is None:
        return [ontology]
    return [ontology, parse_annotations(annotations, files.genes, ontology, files.rejects)]


SOURCE = Source(
    "go", ("gene_ontology.obo*|go-basic.obo*", "gene_association.sgd*|sgd.gaf*"),
    ("http://purl.obolibrary.org/obo/go/go-basic.obo",
     "http://current.geneontology.org/annotations/sgd.gaf.gz"), "GO release of the file",
    "Gene Ontology Consortium; SGD annotations", "CC BY 4.0",
    home="https://geneontology.org/docs/download-ontology/", load=_load,
)  # fmt: skip
