"""``tc build-db``: parse the source files, check them against each other, load them into Neo4j.

Steps: find the input files in a source directory, parse each (every record checked; a bad
one stops the build with file, line and field), check that every perturbed gene is in the
genome, then write genes, datasets, environments, experiments and their PERTURBS links in
batched ``UNWIND`` transactions, and finally a ``Build`` node whose id is a hash of the code
version and the inputs' sha256, so the same inputs give the same build id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from neo4j import Driver

import torchcell
from torchcell.checksum import sha256_file
from torchcell.errors import SourceError, TorchCellError
from torchcell.graphdb import cypher
from torchcell.graphdb.constraints import ensure_constraints
from torchcell.graphdb.stats import GraphCounts, graph_counts
from torchcell.progress import Progress, no_progress
from torchcell.schema import environment_id
from torchcell.sources import costanzo2016, sgd
from torchcell.sources.experiments import FIELD, ExperimentTables
from torchcell.sources.table import LINE

BATCH_ROWS = 5_000


@dataclass(frozen=True)
class BuildInputs:
    """The files of one build, found by their published names in a source directory."""

    genome: Path
    single_mutants: list[Path] = field(default_factory=list)
    double_mutants: list[Path] = field(default_factory=list)

    @classmethod
    def find(cls, source_dir: Path) -> BuildInputs:
        source_dir = Path(source_dir)
        if not source_dir.is_dir():
            raise TorchCellError(f"source directory {source_dir} does not exist")

        def matching(*patterns: str) -> list[Path]:
            return sorted({p for pat in patterns for p in source_dir.glob(pat)})

        genome = matching(f"{sgd.FILE_NAME}", f"{sgd.FILE_NAME}.gz")
        if not genome:
            raise TorchCellError(
                f"{source_dir} has no {sgd.FILE_NAME}: the genome defines the genes"
            )
        return cls(
            genome=genome[0],
            single_mutants=matching("strain_ids_and_single_mutant_fitness.tsv*"),
            double_mutants=matching("SGA_*.txt", "SGA_*.txt.gz"),
        )

    def files(self) -> list[Path]:
        return [self.genome, *self.single_mutants, *self.double_mutants]


@dataclass(frozen=True)
class BuildReport:
    build_id: str
    inputs: dict[str, str]
    experiments: int
    unscored: int
    counts: GraphCounts


def build_id(checksums: dict[str, str]) -> str:
    """Hash of the code version and the inputs' checksums (by file name, not by folder)."""
    text = json.dumps({"code": torchcell.__version__, "inputs": checksums}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_known_genes(genes: pl.DataFrame, tables: ExperimentTables, genome: Path) -> None:
    """Every perturbed gene must be a gene of the genome: report the first unknown one."""
    unknown = tables.perturbations.filter(~pl.col("gene").is_in(genes["id"].implode()))
    if unknown.height:
        names = unknown["gene"].unique().sort().to_list()
        listed = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
        raise SourceError(
            tables.path,
            int(unknown[LINE][0]),
            unknown[FIELD][0],
            f"gene {unknown['gene'][0]!r} is not in the genome ({genome.name}); "
            f"{len(names)} unknown gene(s) in this file: {listed}",
        )


def parse_inputs(inputs: BuildInputs) -> tuple[pl.DataFrame, list[ExperimentTables]]:
    genes = sgd.parse_genes(inputs.genome)
    tables = [costanzo2016.parse_single_mutants(p) for p in inputs.single_mutants]
    tables += [costanzo2016.parse_double_mutants(p) for p in inputs.double_mutants]
    for table in tables:
        check_known_genes(genes, table, inputs.genome)
    if len(tables) > 1:
        ids = pl.concat(
            [
                t.experiments.select("id", LINE, pl.lit(i).alias("file"))
                for i, t in enumerate(tables)
            ]
        )
        dup = ids.filter(pl.col("id").is_duplicated()).sort("file", LINE)
        if dup.height:
            first, again = dup.filter(pl.col("id") == dup["id"][0]).head(2).iter_rows(named=True)
            raise SourceError(
                tables[again["file"]].path, again[LINE], None,
                f"experiment {first['id']} is also in {tables[first['file']].path}, line {first[LINE]}",
            )  # fmt: skip
    return genes, tables


def _write(driver: Driver, database: str, statement: str, frame: pl.DataFrame, advance) -> None:
    for batch in frame.iter_slices(BATCH_ROWS):
        driver.execute_query(statement, rows=batch.to_dicts(), database_=database)
        advance(batch.height)


def load(
    driver: Driver,
    database: str,
    genes: pl.DataFrame,
    tables: list[ExperimentTables],
    progress: Progress = no_progress,
) -> None:
    """Write the parsed records with batched MERGE statements (idempotent)."""
    ensure_constraints(driver, database)
    experiments = pl.concat([t.experiments for t in tables]) if tables else None
    perturbations = pl.concat([t.perturbations for t in tables]) if tables else None

    _write(driver, database, cypher.GENES, genes.drop(LINE), progress("genes", genes.height))
    if experiments is None:
        return
    datasets = pl.DataFrame(
        [d.model_dump() for d in (costanzo2016.SMF_DATASET, costanzo2016.DMF_DATASET)]
    ).filter(pl.col("name").is_in(experiments["dataset"].unique().implode()))
    _write(driver, database, cypher.DATASETS, datasets, no_progress("", 0))
    envs = experiments.select("media", "temperature").unique().sort("media", "temperature")
    envs = envs.with_columns(
        pl.Series("id", [environment_id(m, t) for m, t in envs.iter_rows()], dtype=pl.String)
    )
    _write(driver, database, cypher.ENVIRONMENTS, envs, no_progress("", 0))
    experiments = experiments.join(
        envs.rename({"id": "environment_id"}), on=["media", "temperature"], how="left"
    )
    _write(
        driver, database, cypher.EXPERIMENTS, experiments.drop(LINE, "media", "temperature"),
        progress("experiments", experiments.height),
    )  # fmt: skip
    _write(
        driver, database, cypher.PERTURBATIONS, perturbations.drop(LINE, FIELD),
        progress("gene links", perturbations.height),
    )  # fmt: skip


def build_graph(
    driver: Driver, database: str, source_dir: Path, progress: Progress = no_progress
) -> BuildReport:
    inputs = BuildInputs.find(source_dir)
    genes, tables = parse_inputs(inputs)
    checksums = {p.name: sha256_file(p) for p in inputs.files()}
    load(driver, database, genes, tables, progress)
    bid = build_id(checksums)
    driver.execute_query(
        cypher.BUILD,
        id=bid,
        sources=[f"{name} sha256:{digest}" for name, digest in sorted(checksums.items())],
        code_version=torchcell.__version__,
        database_=database,
    )
    return BuildReport(
        build_id=bid,
        inputs=checksums,
        experiments=sum(t.experiments.height for t in tables),
        unscored=sum(t.unscored for t in tables),
        counts=graph_counts(driver, database),
    )
