"""``tc build-db``: sources → validated records → neo4j-admin CSV shards → Neo4j.

Three steps, each callable on its own so that a cluster can run them as separate jobs:

1. ``plan_build``: find the selected sources' files, checksum them, derive the build id
   (a hash of the code version, the graph model, the selection and the inputs' sha256).
   Stored as ``plan.json``.
2. ``build_shard(i, n)``: parse shard ``i`` of ``n`` and write its CSV files. Screens are split
   by rows (each shard parses 1/n of every screen file); whole-file sources (genome, GO, model,
   networks) go round-robin to the shards. Written to ``shard-….tmp`` and renamed when done,
   so a finished shard is skipped on a rerun and a killed one is redone.
3. ``finalize``: check every shard finished, find experiments repeated across shards, write the
   shared nodes (datasets, environments, the Build node), the headers and ``build.json`` with
   the expected counts. The loaders (``online``, ``bulk``) then read the same files.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

import torchcell
from torchcell.checksum import sha256_file, write_json
from torchcell.errors import SourceError, TorchCellError
from torchcell.graphdb.csv_shards import read_part, write_headers, write_part
from torchcell.graphdb.model import NODES, RELATIONSHIPS
from torchcell.schema import environment_id
from torchcell.sources import sgd
from torchcell.sources.catalog import SourceFiles, find
from torchcell.sources.experiments import FIELD, ExperimentTables
from torchcell.sources.parts import GraphPart
from torchcell.sources.registry import SOURCES, dataset, select
from torchcell.sources.table import LINE, Rejects

PLAN = "plan.json"
SUMMARY = "build.json"
DONE = "done.json"
SHARED = "shared"
QUARANTINE = "quarantine.tsv"


@dataclass(frozen=True)
class BuildPlan:
    source_dir: str
    sources: list[str]
    files: dict[str, list[list[str]]]
    checksums: dict[str, str]
    build_id: str
    skipped: list[str]
    missing: dict[str, list[str]] = field(default_factory=dict)
    """Per loaded source, the file patterns it has none of (loaded without them)."""

    def write(self, build_dir: Path) -> None:
        Path(build_dir).mkdir(parents=True, exist_ok=True)
        write_json(Path(build_dir) / PLAN, asdict(self), indent=2)

    @classmethod
    def read(cls, build_dir: Path) -> BuildPlan:
        path = Path(build_dir) / PLAN
        if not path.exists():
            raise TorchCellError(
                f"{build_dir} has no {PLAN}: plan the build first (tc build-db --plan-only)"
            )
        return cls(**json.loads(path.read_text()))

    def file(self, source: str, index: int = 0) -> Path:
        return Path(self.files[source][index][0])


def plan_build(source_dir: Path, only: list[str] | None = None) -> BuildPlan:
    """Find each selected source's files. A source loads whatever of its files are present;
    one with none is skipped (an error when named in ``only``, or for the genome), one that
    lacks a file it cannot parse without is an error naming it."""
    source_dir = Path(source_dir).resolve()
    if not source_dir.is_dir():
        raise TorchCellError(f"source directory {source_dir} does not exist")
    files, skipped, missing = {}, [], {}
    for source in select(only):
        found = find(source, source_dir)
        absent = [pattern for pattern, paths in zip(source.files, found, strict=True) if not paths]
        if len(absent) == len(source.files):
            if source.key == "genome" or only:
                raise TorchCellError(
                    f"{source_dir} has no file matching {', '.join(absent)} (source {source.key})"
                )
            skipped.append(source.key)
            continue
        needed = [source.files[i] for i in source.requires if not found[i]]
        if needed:
            present = [p.name for paths in found for p in paths]
            raise TorchCellError(
                f"{source_dir}: source {source.key} has {', '.join(present)} but not "
                f"{', '.join(needed)}, without which it cannot be read; add it or move the others out"
            )
        if absent:
            missing[source.key] = absent
        files[source.key] = [[str(p) for p in paths] for paths in found]
    checksums = {
        Path(p).name: sha256_file(Path(p)) for groups in files.values() for g in groups for p in g
    }
    model = {name: [*t.properties] for name, t in {**NODES, **RELATIONSHIPS}.items()}
    text = json.dumps(
        {
            "code": torchcell.__version__,
            "model": model,
            "sources": sorted(files),
            "inputs": checksums,
        },
        sort_keys=True,
    )
    build_id = hashlib.sha256(text.encode()).hexdigest()[:16]
    return BuildPlan(str(source_dir), sorted(files), files, checksums, build_id, skipped, missing)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (waiting for it): two builds of one folder, from two
    commands or two SLURM submissions, take turns on a shard or on finalize + load, and the
    later one finds the work done instead of racing on its temporary files."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shard_dir(build_dir: Path, index: int, count: int) -> Path:
    return Path(build_dir) / f"shard-{index:05d}-of-{count:05d}"


def _genes(plan: BuildPlan, rejects: Rejects) -> pl.DataFrame:
    return sgd.parse_genes(plan.file("genome"), rejects)


def _files(plan: BuildPlan, key: str, genes: pl.DataFrame, rejects: Rejects) -> SourceFiles:
    return SourceFiles([[Path(p) for p in group] for group in plan.files[key]], genes, rejects)


def _screens(
    plan: BuildPlan, genes: pl.DataFrame, rows: tuple[int, int], rejects: Rejects
) -> list[ExperimentTables]:
    return [
        table
        for key, source in SOURCES.items()
        if source.screens is not None and key in plan.files
        for table in source.screens(_files(plan, key, genes, rejects), rows)
    ]


def known_genes_only(
    tables: ExperimentTables, genes: pl.DataFrame, rejects: Rejects
) -> ExperimentTables:
    """Experiments that perturb a gene the genome does not know are bad rows (all their links go)."""
    perts = tables.perturbations
    unknown = perts.filter(~pl.col("gene").is_in(genes["id"].implode()))
    if unknown.height == 0:
        return tables
    for field_name, group in unknown.group_by(FIELD, maintain_order=True):
        rejects.drop(
            group, pl.Series([True] * group.height), tables.path, field_name[0],
            "gene {value} is not in the genome", values="gene",
        )  # fmt: skip
    bad_ids = unknown["experiment_id"].unique().implode()
    return ExperimentTables(
        tables.path,
        tables.experiments.filter(~pl.col("id").is_in(bad_ids)),
        perts.filter(~pl.col("experiment_id").is_in(bad_ids)),
        tables.unscored,
        tables.notes,
    )


def in_bucket_order(name: str, frame: pl.DataFrame, experiments: pl.DataFrame) -> pl.DataFrame:
    """Experiments, and the links that start at them, in genotype-bucket order (stable).

    neo4j-admin lays a store's records out in file order, and a materialization partition is a
    range of buckets: read in bucket order, a store larger than memory is read in a few
    forward runs (one per build shard) rather than at random. Other frames pass unchanged."""
    if name == "Experiment":
        return frame.sort("bucket", maintain_order=True)
    if name not in RELATIONSHIPS or RELATIONSHIPS[name].start != "Experiment":
        return frame
    keyed = frame.join(
        experiments.select(pl.col("id").alias("start"), "bucket"), on="start", how="left",
        maintain_order="left",
    )  # fmt: skip
    return keyed.sort("bucket", maintain_order=True).drop("bucket")


def _experiment_parts(tables: list[ExperimentTables]) -> tuple[GraphPart, pl.DataFrame, int]:
    experiments = pl.concat([t.experiments for t in tables])
    lines = pl.concat(
        [
            t.experiments.select(
                "id", pl.lit(str(t.path)).alias("file"), pl.col(LINE).alias("line")
            )
            for t in tables
        ]
    )
    perturbations = pl.concat([t.perturbations for t in tables])
    envs = experiments.select("media", "temperature").unique().sort("media", "temperature")
    envs = envs.with_columns(
        pl.Series("id", [environment_id(m, t) for m, t in envs.iter_rows()], dtype=pl.String)
    )
    experiments = experiments.join(
        envs.rename({"id": "environment"}), on=["media", "temperature"], how="left"
    )
    datasets = pl.DataFrame(
        [dataset(name).model_dump() for name in sorted(experiments["dataset"].unique())],
        schema={"name": pl.String, "doi": pl.String, "version": pl.String},
    )
    notes: dict[str, int] = {}
    for t in tables:
        for key, value in t.notes.items():
            notes[key] = notes.get(key, 0) + value
    part = GraphPart(
        notes=notes,
        nodes={"Experiment": experiments, "Environment": envs, "Dataset": datasets},
        relationships={
            "PERTURBS": perturbations.rename({"experiment_id": "start", "gene": "end"}),
            "IN_DATASET": experiments.select(
                pl.col("id").alias("start"), pl.col("dataset").alias("end")
            ),
            "UNDER": experiments.select(
                pl.col("id").alias("start"), pl.col("environment").alias("end")
            ),
        },
    )
    return part, lines, sum(t.unscored for t in tables)


def build_shard(build_dir: Path, index: int, count: int, quarantine: bool = False) -> dict:
    """Parse and write shard ``index`` of ``count``; return its ``done.json`` content.

    A shard that is already complete is not redone.
    """
    out = shard_dir(build_dir, index, count)
    with locked(out.with_name(out.name + ".lock")):
        return _build_shard(build_dir, index, count, quarantine)


def _build_shard(build_dir: Path, index: int, count: int, quarantine: bool) -> dict:
    plan = BuildPlan.read(build_dir)
    out = shard_dir(build_dir, index, count)
    if (out / DONE).exists():
        return json.loads((out / DONE).read_text())
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)

    rejects = Rejects(quarantine)
    genes = _genes(plan, rejects if index == 0 else Rejects(quarantine))
    parts: list[GraphPart] = []
    jobs = [key for key, s in SOURCES.items() if s.load is not None and key in plan.files]
    for j, job in enumerate(jobs):
        if j % count == index:
            parts += SOURCES[job].load(_files(plan, job, genes, rejects))
    screens = _screens(plan, genes, (index, count), rejects)
    tables = [known_genes_only(t, genes, rejects) for t in screens]
    unscored = 0
    if tables:
        part, lines, unscored = _experiment_parts(tables)
        parts.append(part)
        lines.write_csv(tmp / "experiment_lines.csv")

    rows: dict[str, int] = {}
    notes: dict[str, int] = {}
    for part in parts:
        for name, frame in (*part.nodes.items(), *part.relationships.items()):
            if "Experiment" in part.nodes:
                frame = in_bucket_order(name, frame, part.nodes["Experiment"])
            target = tmp / name
            target.mkdir(exist_ok=True)
            write_part(target / f"part-{len(list(target.iterdir())):03d}.csv", name, frame)
            rows[name] = rows.get(name, 0) + frame.height
        for key, value in part.notes.items():
            notes[key] = notes.get(key, 0) + value
    if index == 0:  # shard 0 holds a file's first rows: nothing there means no data rows at all
        for t in screens:
            if t.experiments.height == 0 and t.unscored == 0:
                notes[
                    f"screen file(s) with no data rows (header only?), nothing loaded: {t.path.name}"
                ] = 1
    if rejects.rows:
        rejects.write(tmp / QUARANTINE)
    done = {"rows": rows, "notes": notes, "unscored": unscored, "rejects": len(rejects.rows)}
    (tmp / DONE).write_text(json.dumps(done, indent=2))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return done


SHARED_LABELS = ("Environment", "Dataset", "Build")


def part_files(build_dir: Path, count: int, name: str) -> list[Path]:
    """The CSV data files of a label or type: from ``shared/`` or from every shard."""
    build_dir = Path(build_dir)
    if name in SHARED_LABELS:
        return sorted((build_dir / SHARED / name).glob("*.csv"))
    return [
        p
        for i in range(count)
        for p in sorted((shard_dir(build_dir, i, count) / name).glob("*.csv"))
    ]


@dataclass(frozen=True)
class BuildSummary:
    build_id: str
    shards: int
    nodes: dict[str, int]
    relationships: dict[str, int]
    notes: dict[str, int]
    unscored: int
    rejects: int
    skipped_sources: list[str]
    inputs: dict[str, str]
    missing_files: dict[str, list[str]] = field(default_factory=dict)
    """Per loaded source, the file patterns it was loaded without."""

    @property
    def experiments(self) -> int:
        return self.nodes.get("Experiment", 0)

    @classmethod
    def read(cls, build_dir: Path) -> BuildSummary:
        path = Path(build_dir) / SUMMARY
        if not path.exists():
            raise TorchCellError(f"{build_dir} has no {SUMMARY}: the build was not finalized")
        return cls(**json.loads(path.read_text()))


def _shared_nodes(build_dir: Path, count: int, label: str, key: str) -> pl.DataFrame:
    files = [
        p
        for i in range(count)
        for p in sorted((shard_dir(build_dir, i, count) / label).glob("*.csv"))
    ]
    frames = [read_part(p, label) for p in files]
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames).unique(subset=key, keep="first").sort(key)


def finalize(build_dir: Path, count: int) -> BuildSummary:
    """Check the shards, write shared nodes, headers and ``build.json``; return the summary."""
    with locked(Path(build_dir) / "finalize.lock"):
        return _finalize(Path(build_dir), count)


def _finalize(build_dir: Path, count: int) -> BuildSummary:
    plan = BuildPlan.read(build_dir)
    missing = [i for i in range(count) if not (shard_dir(build_dir, i, count) / DONE).exists()]
    if missing:
        raise TorchCellError(
            f"shard(s) {', '.join(map(str, missing))} of {count} have not finished in {build_dir}; "
            f"run them with `tc build-db --out {build_dir} --shard I/{count}` or rerun the same command"
        )
    shards = [shard_dir(build_dir, i, count) for i in range(count)]
    dones = [json.loads((s / DONE).read_text()) for s in shards]

    line_files = [
        s / "experiment_lines.csv" for s in shards if (s / "experiment_lines.csv").exists()
    ]
    if line_files:
        lines = pl.concat(
            [
                pl.read_csv(f, schema={"id": pl.String, "file": pl.String, "line": pl.Int64})
                for f in line_files
            ]
        )
        repeated_ids = lines.filter(pl.col("id").is_duplicated()).sort("file", "line")
        if repeated_ids.height:
            first, again = (
                repeated_ids.filter(pl.col("id") == repeated_ids["id"][0])
                .head(2)
                .iter_rows(named=True)
            )
            raise SourceError(
                again["file"], again["line"], None,
                f"duplicate experiment: the same measurement as {first['file']}, line {first['line']}",
            )  # fmt: skip

    shared = build_dir / SHARED
    shutil.rmtree(shared, ignore_errors=True)
    nodes: dict[str, int] = {}
    for label, key in (("Environment", "id"), ("Dataset", "name")):
        frame = _shared_nodes(build_dir, count, label, key)
        if frame.height:
            (shared / label).mkdir(parents=True)
            write_part(shared / label / "part-000.csv", label, frame)
            nodes[label] = frame.height
    build = pl.DataFrame(
        {
            "id": [plan.build_id],
            "sources": [
                [f"{name} sha256:{digest}" for name, digest in sorted(plan.checksums.items())]
            ],
            "code_version": [torchcell.__version__],
            "complete": [False],  # set by the loader once the graph's counts verify
            "appended_to": [[]],
        },
        schema={"id": pl.String, "sources": pl.List(pl.String), "code_version": pl.String,
                "complete": pl.Boolean, "appended_to": pl.List(pl.String)},
    )  # fmt: skip
    (shared / "Build").mkdir(parents=True)
    write_part(shared / "Build" / "part-000.csv", "Build", build)
    nodes["Build"] = 1
    write_headers(build_dir)

    relationships: dict[str, int] = {}
    notes: dict[str, int] = {}
    for done in dones:
        for name, n in done["rows"].items():
            if name in SHARED_LABELS:
                continue
            target = nodes if name in NODES else relationships
            target[name] = target.get(name, 0) + n
        for key, value in done["notes"].items():
            notes[key] = notes.get(key, 0) + value
    quarantined = [s / QUARANTINE for s in shards if (s / QUARANTINE).exists()]
    if quarantined:
        pl.concat(
            [pl.read_csv(q, separator="\t", infer_schema=False) for q in quarantined]
        ).write_csv(build_dir / QUARANTINE, separator="\t")
    summary = BuildSummary(
        build_id=plan.build_id,
        shards=count,
        nodes=dict(sorted(nodes.items())),
        relationships=dict(sorted(relationships.items())),
        notes=notes,
        unscored=sum(d["unscored"] for d in dones),
        rejects=sum(d["rejects"] for d in dones),
        skipped_sources=plan.skipped,
        inputs=plan.checksums,
        missing_files=plan.missing,
    )
    write_json(build_dir / SUMMARY, asdict(summary), indent=2)
    return summary
