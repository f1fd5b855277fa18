"""Materialization throughput for 1, 2, 4 and 8 shards on the same input.

    python benchmarks/scaling.py --experiments 200000

One generated screen is bulk-imported into a fresh local Neo4j; the same dataset spec is then
materialized with N shards (the shards a SLURM array would run) in a local pool of
min(N, CPU count) workers, as ``tc materialize-dataset --nodes N`` does by default.
Prints experiments/s, the speedup over 1 shard and the cost per shard. On a 2-core machine the
curve flattens at 2: the point is that it does not get worse and the per-shard cost stays flat.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import graph_with_screen  # noqa: E402
from dataset import materialize_once  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=200_000)
    args = parser.parse_args()
    with graph_with_screen(args.experiments) as (settings, work):
        materialize_once(settings, work, "warm", 1, 1)
        base = None
        print(
            f"{'shards':>6} {'seconds':>8} {'experiments/s':>14} {'speedup':>8} {'s per shard':>12}"
        )
        for shards in (1, 2, 4, 8):
            manifest, seconds = materialize_once(
                settings, work, f"n{shards}", shards, min(shards, os.cpu_count() or 1)
            )
            rate = manifest.count / seconds
            base = base or rate
            print(
                f"{shards:>6} {seconds:>8.1f} {rate:>14,.0f} {rate / base:>7.2f}x {seconds / shards:>12.2f}"
            )


if __name__ == "__main__":
    main()
