"""``tc materialize-dataset``: a spec's experiments from Neo4j into N LMDB shards + a manifest.

Three steps, like the build, so a cluster can run the shards as an array job:

1. ``prepare``: export the wildtype cell graph (``cell_graph.pt``, ``genes.json``) and write
   ``layout.json`` (spec, query, build, environments, shard count).
2. ``materialize_shard(i, n)``: stream partition ``i`` (experiments whose genotype bucket
   ``% n == i``) through the driver in genotype order, merge replicates as the spec says, write
   ``shard-i-of-n.lmdb`` under a temporary name and rename it when complete, then its
   ``.json`` completion record (count, sha256). A complete shard is skipped on a rerun; a
   partial one is redone from the start.
3. ``finalize``: check every shard, compute label statistics, write ``manifest.json``.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import lmdb
import numpy as np
from neo4j import Driver

from torchcell.checksum import read_sealed_json, sha256_file, write_json, write_sealed_json
from torchcell.errors import TorchCellError
from torchcell.executors.stage import Stage
from torchcell.folder_lock import exclusive
from torchcell.graphdb.connection import Neo4jSettings, open_driver
from torchcell.schema import PERTURBATION_KINDS
from torchcell.store.manifest import CELL_GRAPH, GENES, Manifest
from torchcell.store.records import StoredExperiment
from torchcell.store.replicates import merge
from torchcell.store.shard import open_shard, shard_name, write_shard
from torchcell.store.spec import DatasetSpec

LAYOUT = "layout.json"
LOCK = ".writer.lock"
"""Held by the command that writes a dataset folder (one at a time); each shard task also holds
``.<shard>.lock`` while it writes that shard."""
FETCH_SIZE = 5_000
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def prepare(driver: Driver, database: str, spec: DatasetSpec, out: Path, shards: int) -> dict:
    """Write the cell graph, genes.json and layout.json; reuse them when the build is the same."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    from torchcell.graphdb.run import held_builds

    builds = held_builds(driver, database)
    if not builds:
        raise TorchCellError("the graph has no Build node: run `tc build-db` first")
    unfinished = [b["id"] for b in builds if not b["complete"]]
    if unfinished:
        raise TorchCellError(
            f"the graph's build {', '.join(unfinished)} is incomplete (its load was interrupted "
            "or did not verify); finish it by rerunning the same tc build-db command"
        )
    names = {
        r["name"]
        for r in driver.execute_query(
            "MATCH (d:Dataset) RETURN d.name AS name", database_=database
        ).records
    }
    absent = [d for d in spec.datasets if d not in names]
    if absent:
        raise TorchCellError(
            f"the spec names dataset(s) the graph does not hold: {', '.join(absent)}; "
            f"the graph holds {', '.join(sorted(names)) or 'none'}"
        )
    _check_environments(driver, database, spec)
    build = {"id": "+".join(b["id"] for b in builds), "builds": builds}
    layout = {
        "spec": spec.model_dump(),
        "cypher": spec.cypher(),
        "build": build,
        "shards": shards,
        "environments": [
            r["id"]
            for r in driver.execute_query(
                "MATCH (v:Environment) RETURN v.id AS id ORDER BY id", database_=database
            ).records
        ],
    }
    existing = out / LAYOUT
    if existing.exists():
        old = read_layout(out)
        if {k: v for k, v in old.items() if k != "files"} != layout:
            raise TorchCellError(
                f"{out} holds a dataset of another spec, build or shard count; choose another --out or delete it"
            )
        return old
    from torchcell.store.cell_graph import export_cell_graph  # torch: not needed by shard workers

    snapshot = export_cell_graph(driver, database, out / CELL_GRAPH)
    write_json(out / GENES, snapshot["genes"])
    layout["files"] = {name: sha256_file(out / name) for name in (GENES, CELL_GRAPH)}
    write_json(existing, layout, indent=2)
    return layout


def _check_environments(driver: Driver, database: str, spec: DatasetSpec) -> None:
    """A TorchCellError when the spec's media or temperatures match no Environment of the graph
    (a misspelling would otherwise give a complete dataset of 0 records)."""
    if spec.media is None and spec.temperatures is None:
        return
    held = [
        (r["media"], r["temperature"])
        for r in driver.execute_query(
            "MATCH (v:Environment) RETURN v.media AS media, v.temperature AS temperature",
            database_=database,
        ).records
    ]
    shown = ", ".join(f"{m} at {t:g} °C" for m, t in sorted(held)) or "none"
    unknown = [m for m in spec.media or [] if m not in {m for m, _ in held}] + [
        f"{t:g} °C" for t in spec.temperatures or [] if t not in {t for _, t in held}
    ]
    if not unknown and not any(
        (spec.media is None or m in spec.media)
        and (spec.temperatures is None or t in spec.temperatures)
        for m, t in held
    ):
        unknown = ["the combination of media and temperatures"]
    if unknown:
        raise TorchCellError(
            f"the spec's environment filter names what no environment of the graph has: "
            f"{', '.join(unknown)}; the graph holds {shown}"
        )


def read_layout(out: Path) -> dict:
    """layout.json, after checking that genes.json and the cell graph are the files it was
    written with (a resumed run reads them back)."""
    out = Path(out)
    try:
        layout = json.loads((out / LAYOUT).read_text())
    except (OSError, ValueError) as err:
        raise TorchCellError(
            f"{out / LAYOUT} is unreadable ({err}); delete {out} and materialize again"
        ) from None
    for path in _differing(out, layout.get("files", {})):
        raise TorchCellError(
            f"{path} is missing or differs from the one {out / LAYOUT} was written with; "
            f"delete {out} and materialize again"
        )
    return layout


def _differing(out: Path, files: dict[str, str]) -> list[Path]:
    """The files of ``files`` (name: sha256) that are missing under ``out`` or differ."""
    paths = [Path(out) / name for name in files]
    return [p for p in paths if not p.exists() or sha256_file(p) != files[p.name]]


def _meta_path(out: Path, index: int, count: int) -> Path:
    return Path(out) / (shard_name(index, count) + ".json")


def _complete(out: Path, index: int, count: int) -> dict | None:
    """The completion record of a whole shard; None when either is missing or was edited."""
    shard = Path(out) / shard_name(index, count)
    meta = read_sealed_json(_meta_path(out, index, count))
    if meta is None or not shard.exists():
        return None
    return meta if sha256_file(shard) == meta.get("sha256") else None


def as_dicts(records):
    """Driver records as plain dicts, zipped with the keys of the first record (a ``Record`` is a
    tuple; its own ``__getitem__`` and ``__iter__`` run in Python, per field, and cost more than
    the rest of a row's handling)."""
    keys = None
    for record in records:
        keys = keys or record.keys()
        yield dict(zip(keys, tuple.__iter__(record), strict=True))


def in_genotype_order(rows):
    """Rows (dicts) that arrive in bucket order, yielded in (bucket, genotype, id) order: a
    bucket holds a handful of genotypes, so only one bucket's rows are ever held here."""
    for _, bucket in itertools.groupby(rows, key=lambda r: r["bucket"]):
        yield from sorted(bucket, key=lambda r: (r["genotype"], r["id"]))


def materialize_shard(settings: Neo4jSettings, out: Path, index: int, count: int) -> dict:
    """Write shard ``index`` of ``count`` (skipped when already complete); return its record."""
    out = Path(out)
    with exclusive(out / f".{shard_name(index, count)}.lock", f"shard {index} of {out}"):
        return _write_shard(settings, out, index, count)


def _write_shard(settings: Neo4jSettings, out: Path, index: int, count: int) -> dict:
    done = _complete(out, index, count)
    if done is not None:
        return done
    layout = read_layout(out)
    spec = DatasetSpec.model_validate(layout["spec"])
    genes = {g: i for i, g in enumerate(json.loads((out / GENES).read_text()))}
    environments = {v: i for i, v in enumerate(layout["environments"])}
    kinds = {k: i for i, k in enumerate(PERTURBATION_KINDS)}
    datasets = {d: i for i, d in enumerate(spec.datasets)}
    measurements = 0

    def records(rows):
        nonlocal measurements
        for _, group in itertools.groupby(
            in_genotype_order(as_dicts(rows)), key=lambda r: r["genotype"]
        ):
            group = list(group)
            measurements += len(group)
            if spec.replicates == "prefer" and any(r["dataset"] == spec.prefer for r in group):
                group = [r for r in group if r["dataset"] == spec.prefer]
            batches = [group] if spec.replicates != "keep_all" else [[r] for r in group]
            for batch in batches:
                first = batch[0]
                yield StoredExperiment(
                    id=first["id"],
                    genes=[genes[g] for g in first["genes"]],
                    kinds=[kinds[k] for k in first["kinds"]],
                    alleles=[
                        "" if k == "deletion" else a.lower()
                        for k, a in zip(first["kinds"], first["alleles"], strict=True)
                    ],
                    environment=environments[first["environment"]],
                    dataset=datasets[first["dataset"]],
                    labels=merge(spec.labels, batch),
                    n=len(batch),
                )

    name = shard_name(index, count)
    with (
        open_driver(settings) as driver,
        driver.session(database=settings.database, fetch_size=FETCH_SIZE) as session,
    ):
        result = session.run(spec.cypher(), spec.parameters(index, count))
        written = write_shard(out / name, records(result))
    meta = {
        "file": name,
        "count": written,
        "measurements": measurements,
        "sha256": sha256_file(out / name),
    }
    write_sealed_json(_meta_path(out, index, count), meta)
    return meta


def _label_stats(out: Path, shards: list[dict], labels: list[str]) -> dict:
    values: list[list[float]] = [[] for _ in labels]
    for shard in shards:
        for record in open_shard(out / shard["file"]):
            for j, v in enumerate(record.labels):
                if v is not None:
                    values[j].append(v)
    stats = {}
    for label, column in zip(labels, values, strict=True):
        array = np.asarray(column, dtype=np.float64)
        stats[label] = {
            "count": int(array.size),
            "mean": float(array.mean()) if array.size else None,
            "std": float(array.std(ddof=1)) if array.size > 1 else None,
            "quantiles": {str(q): float(np.quantile(array, q)) for q in QUANTILES}
            if array.size
            else {},
        }
    return stats


def finalize(out: Path) -> Manifest:
    out = Path(out)
    layout = read_layout(out)
    count = layout["shards"]
    metas = [_complete(out, i, count) for i in range(count)]
    missing = [i for i, m in enumerate(metas) if m is None]
    if missing:
        raise TorchCellError(
            f"shard(s) {', '.join(map(str, missing))} of {count} in {out} are missing or incomplete; "
            "rerun the same command to finish them (complete shards are kept)"
        )
    spec = DatasetSpec.model_validate(layout["spec"])
    manifest = Manifest(
        name=spec.name,
        spec=layout["spec"],
        cypher=layout["cypher"],
        parameters=spec.parameters(0, count),
        build=layout["build"],
        labels=list(spec.labels),
        environments=layout["environments"],
        kinds=list(PERTURBATION_KINDS),
        gene_count=len(json.loads((out / GENES).read_text())),
        shards=metas,
        count=sum(m["count"] for m in metas),
        measurements=sum(m["measurements"] for m in metas),
        label_stats=_label_stats(out, metas, list(spec.labels)),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        cell_graph={"file": CELL_GRAPH, "sha256": sha256_file(out / CELL_GRAPH)},
        files={
            name: sha256_file(out / name)
            for name in [LAYOUT, GENES] + [_meta_path(out, i, count).name for i in range(count)]
        },
    )
    manifest.write(out)
    return manifest


def verify(out: Path) -> list[str]:
    """Problems found checking every shard and the cell graph against the manifest ([] = good)."""
    out = Path(out)
    manifest = Manifest.read(out)
    problems = []
    for shard in manifest.shards:
        path = out / shard["file"]
        if not path.exists():
            problems.append(f"{path} is missing")
            continue
        if sha256_file(path) != shard["sha256"]:
            problems.append(f"{path}: sha256 differs from the manifest")
        try:
            records = len(open_shard(path))
        except lmdb.Error as err:
            problems.append(f"{path} is not a readable LMDB shard ({type(err).__name__})")
            continue
        if records != shard["count"]:
            problems.append(f"{path}: {records} records, the manifest says {shard['count']}")
    if not manifest.files:
        problems.append(
            f"{out / 'manifest.json'} lists no hashes of layout.json, genes.json and the shard "
            "records (an older format); rerun the same tc materialize-dataset to rewrite it"
        )
    graph = {manifest.cell_graph["file"]: manifest.cell_graph["sha256"]}
    for path in _differing(out, {**manifest.files, **graph}):
        problems.append(f"{path} is missing or differs from the manifest")
    if sum(s["count"] for s in manifest.shards) != manifest.count:
        problems.append("the shard counts do not add up to the manifest's count")
    return problems


def require_intact(out: Path) -> Manifest:
    """The manifest of a dataset whose every shard and cell graph match it (counts and sha256),
    else a TorchCellError that says what differs and how to repair it. Cheap: read on every
    `tc train` and `tc evaluate` start."""
    problems = verify(out)
    if problems:
        shown = "; ".join(problems[:4]) + (
            f"; and {len(problems) - 4} more" if len(problems) > 4 else ""
        )
        raise TorchCellError(
            f"dataset {out} does not match its manifest: {shown}. Rerun the same "
            "tc materialize-dataset SPEC --out DIR to redo the damaged shards, or check with "
            "tc dataset verify"
        )
    manifest = Manifest.read(out)
    if manifest.count == 0:
        raise TorchCellError(
            f"dataset {out} holds 0 records: its spec ({manifest.spec.get('name')}) matched no "
            "experiment of the graph; check the spec's datasets, kinds and filters"
        )
    return manifest


def materialize_stage(settings: Neo4jSettings, spec_path: Path, out: Path, count: int) -> Stage:
    """Materialization as a sharded stage: ``tc materialize-dataset --shard i/N`` tasks, then finalize."""
    common = [
        "materialize-dataset",
        str(Path(spec_path).resolve()),
        "--out",
        str(Path(out).resolve()),
    ]
    return Stage(
        name="materialize-dataset",
        count=count,
        work_dir=Path(out),
        shard_args=[*common, "--shard", "{index}/{count}"],
        finalize_args=[*common, "--nodes", "{count}", "--finalize"],
        run_shard=partial(materialize_shard, settings, Path(out), count=count),
        finalize=partial(finalize, Path(out)),
        is_done=lambda i: _complete(out, i, count) is not None,
    )


def done_record(out: Path, index: int, count: int) -> Path:
    return _meta_path(out, index, count)
