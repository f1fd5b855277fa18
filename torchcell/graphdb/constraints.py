"""Unique constraints (which also index) for every node label's id, and the partition index."""

from __future__ import annotations

from neo4j import Driver

from torchcell.graphdb.model import NODES


def ensure_constraints(driver: Driver, database: str) -> None:
    for label, node in NODES.items():
        key = node.key
        driver.execute_query(
            f"CREATE CONSTRAINT {label.lower()}_{key} IF NOT EXISTS "
            f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE",
            database_=database,
        )
    # Dataset partitions are ranges of the genotype bucket (see DatasetSpec.cypher).
    driver.execute_query(
        "CREATE RANGE INDEX experiment_bucket IF NOT EXISTS FOR (e:Experiment) ON (e.bucket)",
        database_=database,
    )
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
