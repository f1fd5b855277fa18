"""Materialization throughput for 1, 2, 4 and 8 shards on the same input, with and without the
Neo4j driver's Rust record decoder.

    python benchmarks/scaling.py --experiments 200000

One generated screen is bulk-imported into a fresh local Neo4j; the same dataset spec is then
materialized with N shards (the shards a SLURM array would run) in a pool of min(N, CPU count)
spawned workers, as ``tc materialize-dataset --nodes N`` does. Each N runs twice in the same
process: with the driver's pure-Python PackStream decoder, and with ``neo4j-rust-ext`` (a
dependency of TorchCell, which the driver uses when installed). Per run it prints
experiments/s, the speedup over the pure-Python 1-shard rate, and where the CPU went: seconds
of CPU used by the Neo4j server and by the shard writers, against the machine's cores × wall
time. A writer that decodes records in Python is the bottleneck at 1 shard; with more shards
than cores, the writers and the server share the cores, so the rate stops rising at the core
count.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))

from common import graph_with_screen  # noqa: E402

from torchcell.graphdb import local_server  # noqa: E402
from torchcell.graphdb.connection import open_driver  # noqa: E402
from torchcell.store.materialize import finalize, materialize_shard, prepare  # noqa: E402
from torchcell.store.spec import DatasetSpec  # noqa: E402


def use_rust_decoder(enabled: bool) -> None:
    """In a shard writer: keep the driver's Rust record decoder, or fall back to its pure-Python
    one (the driver picks Rust at import when ``neo4j-rust-ext`` is installed)."""
    from neo4j._codec.packstream.v1 import Unpacker, _rust_unpack

    if _rust_unpack is None:
        sys.exit("neo4j-rust-ext is not installed: pip install -e . installs it")
    if not enabled:
        Unpacker.unpack = lambda self, hydration_hooks=None: self._unpack(hydration_hooks)


def _cpu(times) -> float:
    return times.user + times.system


def materialize(settings, work: Path, name: str, shards: int, rust: bool) -> dict:
    spec = DatasetSpec(name=name, datasets=["costanzo2016_dmf"], min_genes=2, max_genes=2,
                       labels=["fitness", "gene_interaction"])  # fmt: skip
    out = work / name
    server = psutil.Process(local_server.read_state().pid)
    workers = min(shards, os.cpu_count() or 1)
    before = _cpu(server.cpu_times()), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open_driver(settings) as driver:
        prepare(driver, settings.database, spec, out, shards)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=use_rust_decoder, initargs=(rust,),
    ) as pool:  # fmt: skip
        for future in [
            pool.submit(materialize_shard, settings, out, i, shards) for i in range(shards)
        ]:
            future.result()
    manifest = finalize(out)
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    writers = (children.ru_utime - before[1].ru_utime) + (children.ru_stime - before[1].ru_stime)
    return {
        "count": manifest.count, "seconds": seconds, "server_cpu": _cpu(server.cpu_times()) - before[0],
        "writer_cpu": writers,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=200_000)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with graph_with_screen(args.experiments) as (settings, work):
        materialize(settings, work, "warm", 1, False)  # page cache and query plan warm
        base = None
        print(f"{cores} CPU cores; CPU-s available per run = cores × wall")
        print(
            f"{'shards':>6} {'decoder':>8} {'seconds':>8} {'experiments/s':>14} {'vs python 1':>11} "
            f"{'server CPU-s':>12} {'writers CPU-s':>13} {'of cores×wall':>13}"
        )
        for shards in (1, 2, 4, 8):
            for rust in (False, True):
                run = materialize(settings, work, f"n{shards}{'r' if rust else 'p'}", shards, rust)
                rate = run["count"] / run["seconds"]
                base = base or rate
                used = (run["server_cpu"] + run["writer_cpu"]) / (cores * run["seconds"])
                print(
                    f"{shards:>6} {'rust' if rust else 'python':>8} {run['seconds']:>8.1f} {rate:>14,.0f} "
                    f"{rate / base:>10.2f}x {run['server_cpu']:>12.1f} {run['writer_cpu']:>13.1f} {used:>12.0%}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
