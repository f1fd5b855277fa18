"""The online loader: batched ``UNWIND … MERGE`` writes of a finalized build into a running Neo4j.

Idempotent (every write MERGEs on the unique id), so it suits small and incremental builds.
Every relationship batch returns how many links it matched; a link whose nodes are missing
would otherwise vanish silently, so it stops the load with the file it came from.
"""

from __future__ import annotations

from functools import partial
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
        _write(
            driver,
            database,
            build_dir,
            summary,
            label,
            node_cypher(label),
            lambda f: f,
            check=False,
            progress=progress,
        )
    for rel in RELATIONSHIPS:
        _write(
            driver,
            database,
            build_dir,
            summary,
            rel,
            rel_cypher(rel),
            partial(_rel_rows, rel),
            check=True,
            progress=progress,
        )
    return summary


def _write(
    driver, database, build_dir, summary, name, statement, rows, check: bool, progress: Progress
) -> None:
    """Every CSV part of ``name`` in batches; with ``check``, each batch must match all its rows."""
    files = part_files(build_dir, summary.shards, name)
    if not files:
        return
    advance = progress(name, {**summary.nodes, **summary.relationships}.get(name, 0))
    for path in files:
        for batch in rows(read_part(path, name)).iter_slices(BATCH_ROWS):
            records = driver.execute_query(
                statement, rows=batch.to_dicts(), database_=database
            ).records
            if check and records[0]["n"] != batch.height:
                raise TorchCellError(
                    f"{batch.height - records[0]['n']} {name} link(s) in {path} refer to nodes that are not in the graph"
                )
            advance(batch.height)
