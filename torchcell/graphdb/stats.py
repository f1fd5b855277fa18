"""Counting what the graph holds, by node label and relationship type."""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import Driver

from torchcell.graphdb import cypher


@dataclass(frozen=True)
class GraphCounts:
    nodes: dict[str, int]
    relationships: dict[str, int]


def graph_counts(driver: Driver, database: str) -> GraphCounts:
    labels = [
        r["label"] for r in driver.execute_query(cypher.LABEL_COUNTS, database_=database).records
    ]
    types = [
        r["relationshipType"]
        for r in driver.execute_query(cypher.REL_TYPES, database_=database).records
    ]
    nodes = {
        label: driver.execute_query(
            f"MATCH (n:`{label}`) RETURN count(n) AS c", database_=database
        ).records[0]["c"]
        for label in labels
    }
    rels = {
        rel: driver.execute_query(
            f"MATCH ()-[r:`{rel}`]->() RETURN count(r) AS c", database_=database
        ).records[0]["c"]
        for rel in types
    }
    return GraphCounts(
        nodes={k: v for k, v in nodes.items() if v},
        relationships={k: v for k, v in rels.items() if v},
    )
