"""`tc materialize-dataset` and Neo4jCellDataset against the graph built from the sample."""

from __future__ import annotations

import json

import pytest
import torch
from torch_geometric.data import Batch, HeteroData

from torchcell.cell import Neo4jCellDataset
from torchcell.checksum import sha256_file
from torchcell.graphdb.query_spec import DatasetSpec
from torchcell.paths import PIPELINE, SAMPLE_DIR
from torchcell.store.shard import ShardReader

from conftest import run_tc

SPEC = PIPELINE / "datasets" / "costanzo2016_sample.yaml"


@pytest.fixture
def dataset_dir(empty_graph, tmp_path):
    run_tc("build-db", "--source-dir", str(SAMPLE_DIR))
    out = tmp_path / "dataset"
    result = run_tc("materialize-dataset", str(SPEC), "--out", str(out))
    assert "wrote" in result.stdout
    return out


def test_manifest_matches_a_direct_cypher_count(dataset_dir, empty_graph):
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    direct = empty_graph.execute_query(
        "MATCH (e:Experiment)-[:IN_DATASET]->(d:Dataset) WHERE d.name IN $names "
        "MATCH (e)-[:PERTURBS]->(g) WITH e, count(g) AS n WHERE n <= 2 RETURN count(e) AS c",
        names=DatasetSpec.from_yaml(SPEC).datasets,
    ).records[0]["c"]
    assert manifest["count"] == direct == sum(s["count"] for s in manifest["shards"])
    shard = dataset_dir / manifest["shards"][0]["file"]
    assert manifest["shards"][0]["sha256"] == sha256_file(shard)
    assert not list(dataset_dir.glob("*.tmp*")), "temporary files must be renamed or removed"
    build = empty_graph.execute_query("MATCH (b:Build) RETURN b.id AS id").records[0]["id"]
    assert manifest["build"]["id"] == build
    assert manifest["cypher"] == DatasetSpec.from_yaml(SPEC).cypher()
    fitness = empty_graph.execute_query(
        "MATCH (e:Experiment)-[:IN_DATASET]->(d:Dataset) WHERE d.name IN $names "
        "RETURN avg(e.fitness) AS m, count(e.fitness) AS n",
        names=DatasetSpec.from_yaml(SPEC).datasets,
    ).records[0]
    assert manifest["label_stats"]["fitness"]["count"] == fitness["n"]
    assert manifest["label_stats"]["fitness"]["mean"] == pytest.approx(fitness["m"], rel=1e-9)


def test_records_hold_every_experiment_once(dataset_dir, empty_graph):
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    genes = json.loads((dataset_dir / "genes.json").read_text())
    reader = ShardReader(dataset_dir / manifest["shards"][0]["file"])
    records = list(reader)
    reader.close()
    ids = {r.id for r in records}
    assert len(ids) == len(records) == manifest["count"]
    graph = empty_graph.execute_query(
        "MATCH (e:Experiment)-[:IN_DATASET]->(d:Dataset) WHERE d.name IN $names "
        "MATCH (e)-[:PERTURBS]->(g:Gene) WITH e, collect(g.id) AS genes "
        "RETURN e.id AS id, genes, e.fitness AS f",
        names=DatasetSpec.from_yaml(SPEC).datasets,
    ).records
    truth = {r["id"]: (sorted(r["genes"]), r["f"]) for r in graph}
    assert ids == set(truth)
    for record in records[:200]:
        assert (sorted(genes[i] for i in record.genes), record.labels[0]) == truth[record.id]


def test_dataset_returns_heterodata_with_mask_and_labels(dataset_dir):
    dataset = Neo4jCellDataset(dataset_dir)
    assert len(dataset) == json.loads((dataset_dir / "manifest.json").read_text())["count"]
    sample = dataset[len(dataset) - 1]
    assert isinstance(sample, HeteroData)
    assert sample["gene"].num_nodes == dataset.num_genes
    assert sample["gene"].pert_mask.sum() == len(sample["gene"].perturbed)
    assert torch.equal(
        sample["gene"].pert_mask.nonzero().flatten(), sample["gene"].perturbed.sort().values
    )
    assert sample.y.shape == (1, 2)
    # No per-sample copy of a graph: the sample has no edges and no node features.
    assert sample.edge_types == [] and "x" not in sample["gene"]
    batch = Batch.from_data_list([dataset[i] for i in range(8)])
    assert batch["gene"].pert_mask.shape == (8 * dataset.num_genes,)
    assert batch.y.shape == (8, 2)
