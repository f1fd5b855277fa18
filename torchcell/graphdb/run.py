"""``tc build-db`` as a stage: plan, shards, finalize, then load and verify the graph."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from torchcell.errors import TorchCellError
from torchcell.executors.stage import Stage
from torchcell.graphdb import local_server
from torchcell.graphdb.build import (
    DONE,
    BuildPlan,
    BuildSummary,
    build_shard,
    finalize,
    plan_build,
    shard_dir,
)
from torchcell.graphdb.bulk import load_bulk
from torchcell.graphdb.connection import open_driver, resolve_settings
from torchcell.graphdb.constraints import ensure_constraints
from torchcell.graphdb.online import load_online
from torchcell.graphdb.stats import GraphCounts, graph_counts
from torchcell.progress import Progress, no_progress

Loader = Literal["online", "bulk", "none"]
GraphMode = Literal["refuse", "replace", "append"]
"""What an online load does when the graph holds another build: refuse (default), remove it
first, or add to it (a union, recorded in the new Build node's ``appended_to``)."""
DELETE_BATCH = 10_000


def default_build_dir(build_id: str) -> Path:
    return local_server.state_dir() / "builds" / build_id


def prepare(
    source_dir: Path, only: list[str] | None, build_dir: Path | None
) -> tuple[BuildPlan, Path]:
    """Plan the build and store the plan in its build folder (refusing a folder of another build)."""
    plan = plan_build(source_dir, only)
    build_dir = Path(build_dir) if build_dir else default_build_dir(plan.build_id)
    if (build_dir / "plan.json").exists():
        existing = BuildPlan.read(build_dir)
        if existing.build_id != plan.build_id:
            raise TorchCellError(
                f"{build_dir} holds build {existing.build_id}, not {plan.build_id} (the inputs or the "
                "selection changed): choose another --out or delete it"
            )
    plan.write(build_dir)
    return plan, build_dir


def build_stage(
    build_dir: Path,
    count: int,
    source_dir: Path,
    only: list[str] | None,
    quarantine: bool,
    loader: Loader,
    mode: GraphMode = "refuse",
) -> Stage:
    """The build as a sharded stage: ``tc build-db --shard i/N`` tasks, then finalize + load."""
    common = [
        "build-db",
        "--source-dir",
        str(Path(source_dir).resolve()),
        "--out",
        str(Path(build_dir).resolve()),
    ]
    common += ["--only", ",".join(only)] if only else []
    return Stage(
        name="build-db",
        count=count,
        work_dir=Path(build_dir),
        shard_args=[
            *common,
            "--shard",
            "{index}/{count}",
            *(["--quarantine"] if quarantine else []),
        ],
        finalize_args=[
            *common,
            "--nodes",
            "{count}",
            "--finalize",
            "--loader",
            loader,
            *({"replace": ["--replace"], "append": ["--append"]}.get(mode, [])),
        ],  # fmt: skip
        run_shard=partial(build_shard, build_dir, count=count, quarantine=quarantine),
        finalize=partial(finalize, build_dir, count),
        is_done=lambda i: done_record(build_dir, i, count).exists(),
    )


def done_record(build_dir: Path, index: int, count: int) -> Path:
    return shard_dir(build_dir, index, count) / DONE


@dataclass(frozen=True)
class LoadResult:
    counts: GraphCounts
    uri: str


def held_builds(driver, database: str) -> list[dict]:
    """The Build nodes of the graph: id, sources, complete, appended_to."""
    return [
        dict(r)
        for r in driver.execute_query(
            "MATCH (b:Build) RETURN b.id AS id, b.sources AS sources, "
            "coalesce(b.complete, false) AS complete, coalesce(b.appended_to, []) AS appended_to "
            "ORDER BY b.id",
            database_=database,
        ).records
    ]


def _clear(driver, database: str) -> None:
    """Remove every node and relationship, in batches (an auto-commit query, as
    ``CALL … IN TRANSACTIONS`` requires)."""
    with driver.session(database=database) as session:
        session.run(
            f"MATCH (n) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF {DELETE_BATCH} ROWS"
        ).consume()


def verify_and_complete(
    driver, database: str, summary: BuildSummary, fresh: bool, appended_to: list[str]
) -> GraphCounts:
    """Check the graph holds what the build wrote (exactly, in a ``fresh`` graph; at least, in
    a union or a resumed load), then mark its Build node complete; the graph's counts."""
    counts = graph_counts(driver, database)
    expected = {**summary.nodes, **summary.relationships}
    held = {**counts.nodes, **counts.relationships}
    if not fresh:  # a union, or a resumed load of this build: its Build node is counted once
        expected = {k: v for k, v in expected.items() if k != "Build"}
    wrong = {
        k: (v, held.get(k, 0))
        for k, v in expected.items()
        if (held.get(k, 0) != v if fresh else held.get(k, 0) < v)
    }
    if wrong:
        listed = ", ".join(f"{k}: wrote {w}, graph holds {h}" for k, (w, h) in wrong.items())
        raise TorchCellError(
            f"the graph does not hold what build {summary.build_id} wrote: {listed}"
        )
    driver.execute_query(
        "MATCH (b:Build {id: $id}) SET b.complete = true, b.appended_to = $others",
        id=summary.build_id,
        others=appended_to,
        database_=database,
    )
    return counts


def load(
    build_dir: Path, loader: Loader, progress: Progress = no_progress, mode: GraphMode = "refuse"
) -> LoadResult | None:
    """Load a finalized build, check that the graph holds what the build wrote, and only then
    mark its Build node complete (an interrupted load leaves ``complete: false``, which
    materialization refuses).

    One graph, one build: an online load into a graph that holds another build is refused
    unless ``mode`` is ``replace`` (the graph is emptied in batches first) or ``append``."""
    if loader == "none":
        return None
    summary = BuildSummary.read(build_dir)
    if loader == "bulk":
        load_bulk(build_dir)
    settings = resolve_settings()
    with open_driver(settings) as driver:
        if loader == "bulk":
            ensure_constraints(driver, settings.database)
        others = [
            b["id"] for b in held_builds(driver, settings.database) if b["id"] != summary.build_id
        ]
        if loader == "online" and others:
            if mode == "refuse":
                raise TorchCellError(
                    f"the graph at {settings.uri} holds build {', '.join(others)}; loading build "
                    f"{summary.build_id} beside it would mix two builds. Rerun with --replace "
                    "(remove the graph's build first) or --append (keep both, recorded as a union), "
                    "or use --loader bulk (replaces the local graph)"
                )
            if mode == "replace":
                _clear(driver, settings.database)
                others = []
        before = graph_counts(driver, settings.database)
        if loader == "online":
            load_online(driver, settings.database, build_dir, progress)
        fresh = loader == "bulk" or not before.nodes
        counts = verify_and_complete(
            driver, settings.database, summary, fresh, others if loader == "online" else []
        )
    return LoadResult(counts, settings.uri)
