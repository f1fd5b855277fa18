"""The online loader: batched ``UNWIND … MERGE`` writes of a finalized build into a running Neo4j.

Idempotent (every write MERGEs on the unique id), so it suits small and incremental builds.
Every relationship batch returns how many links it matched; a link whose nodes are missing
would otherwise vanish silently, so it stops the load with the file it came from.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from neo4j import Driver

from torchcell.errors import TorchCellError
from torchcell.graphdb.build import BuildSummary, part_files
from torchcell.graphdb.constraints import ensure_constraints
from torchcell.graphdb.csv_shards import read_part
from torchcell.graphdb.model import NODES, RELATIONSHIPS
from torchcell.progress import Progress, no_progress

BATCH_ROWS = 5_000


def node_cypher(label: str) -> str:
    key = NODES[label].key
    return f"UNWIND $rows AS r MERGE (n:{label} {{{key}: r.{key}}}) SET n += r"


def rel_cypher(rel: str) -> str:
    r = RELATIONSHIPS[rel]
    start_key, end_key = NODES[r.start].key, NODES[r.end].key
    merge = ", ".join(f"{p}: r.props.{p}" for p in r.merge_on)
    link = f"(a)-[x:{rel} {{{merge}}}]->(b)" if merge else f"(a)-[x:{rel}]->(b)"
    props = " SET x += r.props" if r.properties else ""
    return (
        f"UNWIND $rows AS r MATCH (a:{r.start} {{{start_key}: r.start}}) "
        f"MATCH (b:{r.end} {{{end_key}: r.end}}) MERGE {link}{props} RETURN count(*) AS n"
    )


def _rel_rows(rel: str, frame: pl.DataFrame) -> pl.DataFrame:
    props = list(RELATIONSHIPS[rel].properties)
    if not props:
        return frame.select("start", "end")
    return frame.select("start", "end", pl.struct(props).alias("props"))


def load_online(
    driver: Driver, database: str, build_dir: Path, progress: Progress = no_progress
) -> BuildSummary:
    summary = BuildSummary.read(build_dir)
    ensure_constraints(driver, database)
    for label in NODES:
        files = part_files(build_dir, summary.shards, label)
        if not files:
            continue
        advance = progress(label, summary.nodes.get(label, 0))
        statement = node_cypher(label)
        for path in files:
            for batch in read_part(path, label).iter_slices(BATCH_ROWS):
                driver.execute_query(statement, rows=batch.to_dicts(), database_=database)
                advance(batch.height)
    for rel in RELATIONSHIPS:
        files = part_files(build_dir, summary.shards, rel)
        if not files:
            continue
        advance = progress(rel, summary.relationships.get(rel, 0))
        statement = rel_cypher(rel)
        for path in files:
            for batch in _rel_rows(rel, read_part(path, rel)).iter_slices(BATCH_ROWS):
                matched = driver.execute_query(
                    statement, rows=batch.to_dicts(), database_=database
                ).records[0]["n"]
                if matched != batch.height:
                    raise TorchCellError(
                        f"{batch.height - matched} {rel} link(s) in {path} refer to nodes that are not in the graph"
                    )
                advance(batch.height)
    return summary
