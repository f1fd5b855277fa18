"""Build throughput: parse (shard) → bulk import vs online load, on one generated SGA input.

    python benchmarks/build_db.py --experiments 1000000 --shards 2

Writes a Costanzo 2016 layout pairwise table with N generated double mutants over the sample's
genes (plus the sample's real genome and single-mutant table), then times, in this process:

1. the transform: ``build_shard`` for every shard in a local pool, then ``finalize``;
2. the bulk load: ``neo4j-admin database import full`` into a fresh database folder;
3. the online load: batched UNWIND writes into a running embedded Neo4j (fresh data folder),
   of the same CSV shards (``--online-experiments n`` loads a smaller generated input instead,
   to keep a run short; the rate is per row either way).

It prints rows/s for each, the ratio bulk ÷ online, end-to-end experiments/s with bulk, and the
ceiling the importer alone sets (experiments / bulk seconds): no faster transform can pass it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from common import generate

from torchcell.executors.local import run_shards
from torchcell.graphdb import local_server
from torchcell.graphdb.build import BuildSummary, build_shard, finalize, plan_build
from torchcell.graphdb.bulk import import_into
from torchcell.graphdb.connection import local_settings, open_driver
from torchcell.graphdb.online import load_online


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (workers, the importer)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def rows_of(summary: BuildSummary) -> int:
    return sum(summary.nodes.values()) + sum(summary.relationships.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--online-experiments", type=int, default=None,
                        help="online-load a smaller generated input of this many experiments (default: the same input)")  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="tc-bench-"))
    os.environ["TC_HOME"] = str(work / "home")
    sources, build = work / "sources", work / "build"
    t = time.perf_counter()
    generate(sources, args.experiments)
    print(f"generated {args.experiments:,} experiments in {time.perf_counter() - t:.1f} s ({work})")

    t0, cpu0 = time.perf_counter(), cpu_seconds()
    plan_build(sources).write(build)
    run_shards(partial(build_shard, build, count=args.shards), args.shards, args.workers)
    summary = finalize(build, args.shards)
    transform_s, transform_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    rows = rows_of(summary)

    t, cpu0 = time.perf_counter(), cpu_seconds()
    import_into(work / "bulk-home", build)
    bulk_s, bulk_cpu = time.perf_counter() - t, cpu_seconds() - cpu0

    online_build = build
    if args.online_experiments is not None and args.online_experiments < summary.experiments:
        online_build = work / "online-build"
        sub = work / "online-sources"
        generate(sub, args.online_experiments)
        plan_build(sub).write(online_build)
        run_shards(partial(build_shard, online_build, count=args.shards), args.shards, args.workers)
        finalize(online_build, args.shards)
    online_rows = rows_of(BuildSummary.read(online_build))
    state = local_server.start(
        port=local_server.free_port(), home=work / "online-home", heap="2g", pagecache_mb=512
    )
    try:
        with open_driver(local_settings(state)) as driver:
            t = time.perf_counter()
            load_online(driver, "neo4j", online_build)
            online_s = time.perf_counter() - t
    finally:
        local_server.stop()

    n = summary.experiments
    print(
        f"input: {n:,} experiments, {rows:,} CSV rows (nodes + relationships) in {args.shards} shards"
    )
    print(
        f"parse + CSV shards : {transform_s:8.1f} s  {n / transform_s:12,.0f} experiments/s  {rows / transform_s:12,.0f} rows/s"
    )
    print(f"bulk import        : {bulk_s:8.1f} s  {rows / bulk_s:12,.0f} rows/s")
    print(
        f"online load        : {online_s:8.1f} s  {online_rows / online_s:12,.0f} rows/s ({online_rows:,} rows)"
    )
    print(f"ratio bulk / online (rows/s): {(rows / bulk_s) / (online_rows / online_s):.1f}x")
    print(f"end to end with bulk import: {n / (transform_s + bulk_s):,.0f} experiments/s")
    print(
        f"ceiling of the bulk import alone (a transform that took no time): {n / bulk_s:,.0f} "
        f"experiments/s ({rows / n:.1f} rows per experiment)"
    )
    cores = os.cpu_count() or 1
    print(
        f"CPU time: transform {transform_cpu:.1f} s, bulk import {bulk_cpu:.1f} s; "
        f"100,000 experiments/s on {cores} cores allows {cores * n / 100_000:.1f} s in all"
    )
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
