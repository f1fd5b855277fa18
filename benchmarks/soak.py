"""Soak: 8 concurrent materialization partitions of ≥ 2 M experiments against one server.

    python benchmarks/soak.py [--experiments 2000000] [--partitions 8] [--heap 1g]

A generated screen (the benchmark's ``SGA_NxN_GENERATED.txt``: generated values, for scale
only) is bulk-imported into a fresh local Neo4j started with the default heap of ``tc db
start`` (1 GiB); then one dataset is materialized with ``--partitions`` shards, all running at
once (a pool as wide as the partitions, as eight SLURM array tasks would hit one server),
while the server's heap (JMX, every 0.5 s) and RSS (VmHWM) are sampled. Prints
experiments/s, the server's peak heap and peak RSS, and whether the dataset's record count
equals the graph's experiment count and every shard verifies.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import graph_with_screen  # noqa: E402
from dataset import materialize_once  # noqa: E402


def heap_used(driver) -> int:
    rows = driver.execute_query(
        "CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes "
        "RETURN attributes.HeapMemoryUsage.value.properties.used AS used"
    ).records
    return int(rows[0]["used"])


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=2_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--heap", default="1g")
    args = parser.parse_args()

    from torchcell.graphdb import local_server
    from torchcell.graphdb.connection import open_driver
    from torchcell.store.materialize import verify

    with graph_with_screen(args.experiments, heap=args.heap) as (settings, work):
        pid = local_server.read_state().pid
        with open_driver(settings) as driver:
            graph = driver.execute_query(
                "MATCH (e:Experiment)-[:IN_DATASET]->(:Dataset {name: 'costanzo2016_dmf'}) "
                "RETURN count(e) AS n"
            ).records[0]["n"]
            peak = {"heap": heap_used(driver)}
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set():
                    peak["heap"] = max(peak["heap"], heap_used(driver))
                    time.sleep(0.5)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            manifest, seconds = materialize_once(
                settings, work, "soak", args.partitions, args.partitions
            )
            stop.set()
            sampler.join()
        problems = verify(work / "soak")
        rss = vm_hwm(pid)
        print(f"graph: {graph:,} experiments; server heap limit {args.heap}")
        print(
            f"materialized {manifest.count:,} records in {seconds:.1f} s with {args.partitions} "
            f"concurrent partitions: {manifest.count / seconds:,.0f} experiments/s"
        )
        print(
            f"server peak heap used {peak['heap'] / 2**20:,.0f} MiB, peak RSS {rss / 2**20:,.0f} MiB"
        )
        print(
            f"counts match: {manifest.count == graph} ({manifest.count:,} records, {graph:,} "
            f"experiments); shards verify: {not problems}"
        )
        sys.exit(0 if manifest.count == graph and not problems else 1)


if __name__ == "__main__":
    main()
