"""The graph's node labels and relationship types, with their property types.

One table drives everything that must agree: the neo4j-admin CSV headers, the online loader's
Cypher, the unique constraints and the type casts when a CSV shard is read back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

ARRAY_DELIMITER = "|"

POLARS_TYPES = {
    "string": pl.String,
    "long": pl.Int64,
    "double": pl.Float64,
    "boolean": pl.Boolean,
    "string[]": pl.String,  # stored joined by ARRAY_DELIMITER in CSV
}


@dataclass(frozen=True)
class NodeType:
    label: str
    properties: dict[str, str]
    key: str = "id"


@dataclass(frozen=True)
class RelType:
    type: str
    start: str
    end: str
    properties: dict[str, str] = field(default_factory=dict)
    merge_on: tuple[str, ...] = ()
    """Properties that tell two links between the same nodes apart (e.g. a PHYSICAL link's source)."""


NODES = {
    n.label: n
    for n in [
        NodeType("Gene", {"sgdid": "string", "name": "string", "feature_type": "string", "qualifier": "string",
                          "chromosome": "string", "start": "long", "end": "long", "strand": "string",
                          "aliases": "string[]"}),
        NodeType("GOTerm", {"name": "string", "namespace": "string"}),
        NodeType("Reaction", {"name": "string", "gpr": "string", "lower_bound": "double",
                              "upper_bound": "double", "reversible": "boolean"}),
        NodeType("Metabolite", {"name": "string", "compartment": "string", "formula": "string"}),
        NodeType("Experiment", {"fitness": "double", "fitness_std": "double", "gene_interaction": "double",
                                "gene_interaction_p_value": "double", "emap_score": "double",
                                "genotype": "string", "bucket": "long"}),
        NodeType("Environment", {"media": "string", "temperature": "double"}),
        NodeType("Dataset", {"doi": "string", "version": "string"}, key="name"),
        NodeType("Build", {"sources": "string[]", "code_version": "string", "complete": "boolean",
                           "appended_to": "string[]"}),
    ]
}  # fmt: skip

RELATIONSHIPS = {
    r.type: r
    for r in [
        RelType("PERTURBS", "Experiment", "Gene", {"kind": "string", "allele": "string", "strain": "string"}),
        RelType("IN_DATASET", "Experiment", "Dataset"),
        RelType("UNDER", "Experiment", "Environment"),
        RelType("IS_A", "GOTerm", "GOTerm"),
        RelType("PART_OF", "GOTerm", "GOTerm"),
        RelType("ANNOTATED", "Gene", "GOTerm", {"evidence": "string", "references": "string[]"}, ("evidence",)),
        RelType("STOICH", "Reaction", "Metabolite", {"coefficient": "double"}),
        RelType("CATALYZES", "Gene", "Reaction"),
        RelType("PHYSICAL", "Gene", "Gene", {"source": "string", "score": "double",
                "systems": "string[]", "publications": "string[]"}, ("source",)),
        RelType("REGULATES", "Gene", "Gene", {"source": "string"}, ("source",)),
        RelType("STRING", "Gene", "Gene", {"mode": "string", "score": "double", "direction": "string"},
                ("mode",)),
    ]
}  # fmt: skip


def node_columns(label: str) -> list[str]:
    node = NODES[label]
    return [node.key, *node.properties]


def rel_columns(rel: str) -> list[str]:
    return ["start", "end", *RELATIONSHIPS[rel].properties]


def node_header(label: str) -> list[str]:
    """neo4j-admin import header, e.g. ``id:ID(Gene)``, ``start:long``, ``aliases:string[]``."""
    node = NODES[label]
    return [f"{node.key}:ID({label})", *(f"{p}:{t}" for p, t in node.properties.items())]


def rel_header(rel: str) -> list[str]:
    r = RELATIONSHIPS[rel]
    return [
        f":START_ID({r.start})",
        f":END_ID({r.end})",
        *(f"{p}:{t}" for p, t in r.properties.items()),
    ]


def csv_schema(names: list[str], types: dict[str, str]) -> dict[str, pl.DataType]:
    return {name: POLARS_TYPES[types.get(name, "string")] for name in names}
