"""``tc materialize-dataset``: stream a spec's query from Neo4j into an LMDB shard + manifest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from neo4j import Driver

from torchcell.checksum import sha256_file
from torchcell.errors import TorchCellError
from torchcell.graphdb.query_spec import DatasetSpec
from torchcell.progress import Progress, no_progress
from torchcell.schema import PERTURBATION_KINDS
from torchcell.store.manifest import GENES, LabelStats, Manifest
from torchcell.store.records import StoredExperiment
from torchcell.store.shard import shard_name, write_shard

FETCH_SIZE = 5_000


def _single(driver: Driver, database: str, query: str) -> list:
    return [r[0] for r in driver.execute_query(query, database_=database).records]


def materialize(
    driver: Driver,
    database: str,
    spec: DatasetSpec,
    out: Path,
    progress: Progress = no_progress,
) -> Manifest:
    """Write ``out/genes.json``, one shard and ``out/manifest.json``; return the manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    builds = driver.execute_query(
        "MATCH (b:Build) RETURN b.id AS id, b.sources AS sources ORDER BY b.id", database_=database
    ).records
    if not builds:
        raise TorchCellError("the graph has no Build node: run `tc build-db` first")
    genes = _single(driver, database, "MATCH (g:Gene) RETURN g.id ORDER BY g.id")
    environments = _single(driver, database, "MATCH (v:Environment) RETURN v.id ORDER BY v.id")
    (out / GENES).write_text(json.dumps(genes))
    gene_index = {g: i for i, g in enumerate(genes)}
    env_index = {v: i for i, v in enumerate(environments)}
    kind_index = {k: i for i, k in enumerate(PERTURBATION_KINDS)}
    stats = {label: LabelStats() for label in spec.labels}
    advance = progress("experiments", -1)
    query = spec.cypher()

    def records() -> Iterator[StoredExperiment]:
        with driver.session(database=database, fetch_size=FETCH_SIZE) as session:
            for row in session.run(query, spec.parameters()):
                labels = [row[label] for label in spec.labels]
                for label, value in zip(spec.labels, labels, strict=True):
                    stats[label].add(value)
                advance(1)
                yield StoredExperiment(
                    id=row["id"],
                    genes=[gene_index[g] for g in row["genes"]],
                    kinds=[kind_index[k] for k in row["kinds"]],
                    environment=env_index[row["environment"]],
                    labels=labels,
                )

    name = shard_name(0, 1)
    count = write_shard(out / name, records())
    manifest = Manifest(
        name=spec.name,
        spec=spec.model_dump(),
        cypher=query,
        parameters=spec.parameters(),
        build={"id": builds[-1]["id"], "sources": builds[-1]["sources"]},
        labels=list(spec.labels),
        environments=environments,
        kinds=list(PERTURBATION_KINDS),
        gene_count=len(genes),
        shards=[{"file": name, "count": count, "sha256": sha256_file(out / name)}],
        count=count,
        label_stats={label: s.to_json() for label, s in stats.items()},
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    manifest.write(out)
    return manifest
