"""Inputs shared by the benchmarks: a generated SGA screen and a Neo4j holding it."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from torchcell.graphdb import local_server
from torchcell.graphdb.build import BuildSummary, build_shard, finalize, plan_build
from torchcell.graphdb.bulk import import_into
from torchcell.graphdb.connection import Neo4jSettings, local_settings, open_driver
from torchcell.graphdb.constraints import ensure_constraints
from torchcell.graphdb.run import verify_and_complete
from torchcell.paths import SAMPLE_DIR
from torchcell.sources.costanzo2016 import SGA_COLUMNS
from torchcell.sources.sgd import parse_genes


def generate(
    source_dir: Path,
    experiments: int,
    seed: int = 0,
    genome: Path = SAMPLE_DIR / "SGD_features.tab",
) -> int:
    """A source folder: ``genome`` (the sample's by default), the sample's SMF table and a
    generated SGA_NxN_GENERATED.txt in the published pairwise layout, one query strain × array
    strain per row over the genome's ORFs (generated values, for scale only); returns the rows
    written."""
    source_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(genome, source_dir / genome.name)
    name = "strain_ids_and_single_mutant_fitness.tsv"
    shutil.copy(SAMPLE_DIR / name, source_dir / name)
    genes = parse_genes(genome).filter(feature_type="ORF")["id"].to_list()
    rng = random.Random(seed)
    side = int(experiments**0.5) + 1
    queries = [(g, f"{g}_sn{9000 + i}") for i, g in enumerate(rng.choices(genes, k=side))]
    arrays = [(g, f"{g}_dma{9000 + i}") for i, g in enumerate(rng.choices(genes, k=side))]
    written = 0
    with (source_dir / "SGA_NxN_GENERATED.txt").open("w", encoding="utf-8") as out:
        out.write("\t".join(SGA_COLUMNS) + "\n")
        for qg, qs in queries:
            lines = []
            for ag, astrain in arrays:
                if written + len(lines) >= experiments:
                    break
                if ag == qg:
                    continue
                fq, fa = 0.8 + rng.random() * 0.2, 0.8 + rng.random() * 0.2
                eps = rng.gauss(0, 0.05)
                lines.append(
                    f"{qs}\t{qg.lower()}Δ\t{astrain}\t{ag.lower()}Δ\tDMA30\t{eps:.4f}\t0.05\t"
                    f"{fq:.4f}\t{fa:.4f}\t{fq * fa + eps:.4f}\t0.03\n"
                )
            out.writelines(lines)
            written += len(lines)
            if written >= experiments:
                break
    return written


@contextmanager
def graph_with_screen(experiments: int, heap: str = "2g") -> Iterator[tuple[Neo4jSettings, Path]]:
    """A fresh local Neo4j holding ``experiments`` generated double mutants (bulk-imported)."""
    work = Path(tempfile.mkdtemp(prefix="tc-bench-"))
    os.environ["TC_HOME"] = str(work / "home")
    generate(work / "sources", experiments)
    plan_build(work / "sources").write(work / "build")
    build_shard(work / "build", 0, 1)
    finalize(work / "build", 1)
    import_into(work / "neo4j", work / "build")
    state = local_server.start(
        port=local_server.free_port(), home=work / "neo4j", heap=heap, pagecache_mb=512
    )
    settings = local_settings(state)
    try:
        with open_driver(settings) as driver:
            ensure_constraints(driver, "neo4j")
            verify_and_complete(driver, "neo4j", BuildSummary.read(work / "build"), True, [])
        yield settings, work
    finally:
        local_server.stop()
        shutil.rmtree(work, ignore_errors=True)
