"""The users' full-size data on one machine: a Costanzo-2016-size pairwise screen built and
materialized with the real commands.

    python benchmarks/full_scale.py                      # 41.4 M double mutants
    python benchmarks/full_scale.py --experiments 1000000   # the same path, smaller

Generates ``SGA_NxN_GENERATED.txt`` (generated values in the published pairwise layout, one
query strain × array strain per row, strains drawn from the ORFs of the bundled full SGD
genome ``tests/fixtures/SGD_features.tab.gz``), then runs ``tc db start``, ``tc build-db
--loader bulk`` and ``tc materialize-dataset`` as subprocesses, polling the resident memory of
every process (tc, its workers, neo4j-admin, the Neo4j server). Prints per stage the wall
time, the peak RSS of the tc process tree and of the Neo4j server, the disk used by the CSV
shards, the Neo4j store and the LMDB shards, and checks that the dataset holds one record per
generated experiment and passes ``tc dataset verify``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))

from common import generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GENOME = ROOT / "tests" / "fixtures" / "SGD_features.tab.gz"
TC = str(Path(sys.executable).with_name("tc"))
COSTANZO_2016_DOUBLES = 41_400_000


class PeakRSS:
    """Polls the RSS of a process tree and of the Neo4j server (pid from ``$TC_HOME``)."""

    def __init__(self, root: psutil.Popen, neo4j_pid):
        self.root, self.neo4j_pid = root, neo4j_pid
        self.tree = self.neo4j = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.25):
            server = self.neo4j_pid()
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            tree = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                if p.pid == server:
                    continue
                tree += rss
            self.tree = max(self.tree, tree)
            try:
                self.neo4j = max(
                    self.neo4j, psutil.Process(server).memory_info().rss if server else 0
                )
            except psutil.NoSuchProcess:
                pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def du(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=COSTANZO_2016_DOUBLES)
    parser.add_argument("--nodes", type=int, default=16, help="build shards")
    parser.add_argument("--shards", type=int, default=2, help="materialization shards")
    parser.add_argument(
        "--pagecache-mb", type=int, default=4096,
        help="the server's page cache (tc db start --pagecache-mb): the store of the full size is "
        "far larger than the default, and a materialization then reads the disk for every row",
    )  # fmt: skip
    parser.add_argument("--work", type=Path, default=None, help="kept; default: a removed temp dir")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="tc-full-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TC_HOME": str(work / "home"), "TC_EXECUTOR": "local"}
    env.pop("TC_NEO4J_URI", None)
    state_file = work / "home" / "neo4j.json"

    def neo4j_pid():
        try:
            return json.loads(state_file.read_text())["pid"]
        except (OSError, ValueError, KeyError):
            return None

    rows = []

    def stage(name: str, *cmd: str) -> str:
        start = time.perf_counter()
        proc = psutil.Popen(
            [TC, *cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        peak = PeakRSS(proc, neo4j_pid)
        out, _ = proc.communicate()
        peak.stop()
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"{name} failed ({proc.returncode}):\n{out[-3000:]}")
        rows.append((name, seconds, peak.tree, peak.neo4j))
        print(
            f"{name}: {seconds:,.1f} s, peak RSS tc {peak.tree / 2**30:.2f} GiB, Neo4j {peak.neo4j / 2**30:.2f} GiB",
            flush=True,
        )
        return out

    try:
        start = time.perf_counter()
        made = generate(work / "sources", args.experiments, genome=GENOME)
        screen = (work / "sources" / "SGA_NxN_GENERATED.txt").stat().st_size
        print(
            f"generate: {made:,} experiments in {time.perf_counter() - start:,.1f} s ({screen / 2**30:.2f} GiB screen file)",
            flush=True,
        )
        stage("tc db start", "db", "start", "--pagecache-mb", str(args.pagecache_mb))
        stage(
            "tc build-db (bulk)", "build-db", "--source-dir", str(work / "sources"), "--out",
            str(work / "build"), "--nodes", str(args.nodes), "--loader", "bulk", "--only", "costanzo2016",
        )  # fmt: skip
        spec = work / "doubles.yaml"
        spec.write_text(
            "name: full_scale_doubles\ndatasets: [costanzo2016_dmf]\nmin_genes: 2\nmax_genes: 2\n"
            "labels: [fitness, gene_interaction]\n"
        )
        stage(
            "tc materialize-dataset", "materialize-dataset", str(spec), "--out", str(work / "dataset"),
            "--nodes", str(args.shards), "--executor", "local",
        )  # fmt: skip
        stage("tc dataset verify", "dataset", "verify", str(work / "dataset"))
        manifest = json.loads((work / "dataset" / "manifest.json").read_text())
        store = du(work / "home" / "neo4j" / "data")
        lmdb = sum(du(p) for p in (work / "dataset").glob("*.lmdb"))
        csv = du(work / "build")
        stage("tc db stop", "db", "stop")
        total = sum(r[1] for r in rows if r[0] in ("tc build-db (bulk)", "tc materialize-dataset"))
        print()
        print(f"{'stage':28s} {'seconds':>9s} {'peak RSS tc':>12s} {'peak RSS Neo4j':>15s}")
        for name, seconds, tree, neo4j in rows:
            print(f"{name:28s} {seconds:9,.1f} {tree / 2**30:9.2f} GiB {neo4j / 2**30:12.2f} GiB")
        print(f"build + materialize: {total:,.1f} s = {total / 60:.1f} min (goal < 30 min)")
        peak = max(max(r[2], r[3]) for r in rows)
        print(f"largest peak RSS of one stage's processes: {peak / 2**30:.2f} GiB (goal < 8 GB)")
        print(
            f"disk: CSV shards {csv / 2**30:.2f} GiB, Neo4j store {store / 2**30:.2f} GiB, LMDB shards {lmdb / 2**30:.2f} GiB"
        )
        print(
            f"check: {made:,} generated experiments, {manifest['count']:,} records, "
            f"{manifest['measurements']:,} measurements: "
            f"{'equal' if manifest['count'] == manifest['measurements'] == made else 'DIFFERENT'}; tc dataset verify passed"
        )
    finally:
        subprocess.run([TC, "db", "stop"], env=env, capture_output=True, check=False)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
