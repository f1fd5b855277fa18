"""Materialization against the real Neo4j, and the dataset, processors and splits on its output."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import pytest
import torch
from torch_geometric.data import Batch

from torchcell.cell import (
    CellDataModule,
    CellDataset,
    CellGraph,
    DCellRepresentation,
    LabelStandardizer,
    PerturbationRepresentation,
    SubgraphRepresentation,
)
from torchcell.cell.graph import EDGE_TYPES, GPR, METABOLISM, NODE_TYPES
from torchcell.checksum import sha256_file
from torchcell.paths import PIPELINE
from torchcell.schema.gpr import is_active
from torchcell.store.replicates import merge, signed_stouffer
from torchcell.store.shard import open_shard
from torchcell.store.spec import DatasetSpec

from conftest import fault_env, run_tc

SPEC = PIPELINE / "datasets" / "costanzo2016_sample.yaml"


@pytest.fixture(scope="module")
def keep_all_spec(tmp_path_factory):
    spec = DatasetSpec.from_yaml(SPEC).model_copy(
        update={"name": "keep_all", "replicates": "keep_all"}
    )
    path = tmp_path_factory.mktemp("spec") / "keep_all.yaml"
    path.write_text(json.dumps(spec.model_dump()))  # JSON is YAML
    return path


def materialize(spec, out, *args, env=None, check=True):
    return run_tc("materialize-dataset", str(spec), "--out", str(out), *args, env=env, check=check)


def stored_ids(out) -> list[str]:
    manifest = json.loads((out / "manifest.json").read_text())
    return [r.id for s in manifest["shards"] for r in open_shard(out / s["file"])]


@pytest.fixture(scope="module")
def dataset_dir(sample_graph, tmp_path_factory):
    out = tmp_path_factory.mktemp("dataset")
    materialize(SPEC, out, "--nodes", "3")
    return out


@pytest.mark.parametrize("shards", [1, 3, 8])
def test_shards_partition_every_experiment_exactly_once(
    sample_graph, keep_all_spec, tmp_path, shards
):
    out = tmp_path / f"n{shards}"
    materialize(keep_all_spec, out, "--nodes", str(shards))
    spec = DatasetSpec.from_yaml(keep_all_spec)
    direct = sample_graph.execute_query(
        "MATCH (e:Experiment)-[:IN_DATASET]->(d:Dataset) WHERE d.name IN $names "
        "MATCH (e)-[:PERTURBS]->(g) WITH e, count(g) AS n WHERE n <= 2 RETURN collect(e.id) AS ids",
        names=spec.datasets,
    ).records[0]["ids"]
    ids = stored_ids(out)
    assert len(ids) == len(set(ids)), "an experiment is in two shards"
    assert set(ids) == set(direct), "an experiment is missing"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["count"] == len(direct) == sum(s["count"] for s in manifest["shards"])
    assert len(manifest["shards"]) == shards


def test_manifest_matches_the_graph(dataset_dir, sample_graph):
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    spec = DatasetSpec.from_yaml(SPEC)
    genotypes = sample_graph.execute_query(
        "MATCH (e:Experiment)-[:IN_DATASET]->(d:Dataset) WHERE d.name IN $names "
        "MATCH (e)-[:PERTURBS]->(g) WITH e, count(g) AS n WHERE n <= 2 "
        "RETURN count(DISTINCT e.genotype) AS genotypes, count(e) AS measurements",
        names=spec.datasets,
    ).records[0]
    # replicates: mean → one record per genotype, standing for all its measurements
    assert manifest["count"] == genotypes["genotypes"]
    assert manifest["measurements"] == genotypes["measurements"]
    for shard in manifest["shards"]:
        assert shard["sha256"] == sha256_file(dataset_dir / shard["file"])
    assert (
        manifest["build"]["id"]
        == sample_graph.execute_query("MATCH (b:Build) RETURN b.id AS id").records[0]["id"]
    )
    assert manifest["cypher"] == spec.cypher()
    stats = manifest["label_stats"]["fitness"]
    assert stats["quantiles"]["0.05"] <= stats["quantiles"]["0.5"] <= stats["quantiles"]["0.95"]
    assert not list(dataset_dir.glob("*.tmp*"))
    assert run_tc("dataset", "verify", str(dataset_dir)).returncode == 0


def test_verify_finds_a_damaged_shard(dataset_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(dataset_dir, copy)
    shard = copy / json.loads((copy / "manifest.json").read_text())["shards"][1]["file"]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    result = run_tc("dataset", "verify", str(copy), check=False)
    assert result.returncode == 1 and "sha256 differs" in result.stdout


def test_killed_shard_writer_is_redone_on_rerun(sample_graph, keep_all_spec, tmp_path):
    clean = tmp_path / "clean"
    materialize(keep_all_spec, clean, "--nodes", "3")
    broken = tmp_path / "broken"
    killed = materialize(
        keep_all_spec,
        broken,
        "--nodes",
        "3",
        "--workers",
        "1",
        env=fault_env("1:100"),
        check=False,
    )
    assert killed.returncode != 0
    assert (broken / "shard-00000-of-00003.lmdb").exists(), "shard 0 finished before the kill"
    assert (broken / "shard-00001-of-00003.lmdb.tmp").exists(), "shard 1 was killed midway"
    assert not (broken / "manifest.json").exists()
    finished_first = (broken / "shard-00000-of-00003.lmdb").stat().st_mtime_ns

    materialize(keep_all_spec, broken, "--nodes", "3")
    assert (broken / "shard-00000-of-00003.lmdb").stat().st_mtime_ns == finished_first, (
        "a complete shard was redone"
    )
    assert not list(broken.glob("*.tmp"))
    assert stored_ids(broken) == stored_ids(clean)
    clean_manifest = json.loads((clean / "manifest.json").read_text())
    broken_manifest = json.loads((broken / "manifest.json").read_text())
    assert [s["sha256"] for s in broken_manifest["shards"]] == [
        s["sha256"] for s in clean_manifest["shards"]
    ]


def test_gpr_rules_decide_which_reactions_go(dataset_dir):
    cell = CellGraph.load(dataset_dir)
    gene = {g: i for i, g in enumerate(cell.genes)}
    reaction = {r: i for i, r in enumerate(cell.reactions)}

    def removed(*names: str) -> torch.Tensor:
        mask = torch.zeros(1, len(cell.genes), dtype=torch.bool)
        mask[0, [gene[n] for n in names]] = True
        return cell.reaction_removed(mask)[0]

    # Yeast9 rules: trehalase YPR026W or YBR001C; H2O2 reductase YBL064C and YCR083W;
    # trehalose-phosphate synthase (YBR126C and YDR074W and YML100W) or (… and YMR261C)
    trehalase, peroxide, tps = (reaction[r] for r in ("r_0193", "r_0551", "r_0195"))
    assert not removed("YBR001C")[trehalase], "isozymes: one deletion keeps the trehalase"
    assert removed("YBR001C", "YPR026W")[trehalase], "isozymes: both deletions remove it"
    assert removed("YCR083W")[peroxide], "complex: one subunit removes the reaction"
    assert not removed("YML100W")[tps] and removed("YBR126C")[tps], "(A and B) or (A and C)"
    # Every rule, against the reference evaluation, for many random deletion sets.
    generator = torch.Generator().manual_seed(0)
    rule_genes = sorted({cell.genes[i] for i in cell.clause_gene.tolist()})
    rules = dict(zip(cell.reactions, cell_rules(dataset_dir), strict=True))
    for _ in range(200):
        pick = torch.rand(len(rule_genes), generator=generator) < 0.15
        deleted = {g for g, p in zip(rule_genes, pick.tolist(), strict=True) if p}
        got = removed(*deleted) if deleted else torch.zeros(len(cell.reactions), dtype=torch.bool)
        want = torch.tensor([not is_active(rules[r], deleted) for r in cell.reactions])
        assert torch.equal(got, want)


def test_only_a_deletion_removes_a_gene_and_its_reactions(dataset_dir):
    """Real sample rows of TSC10 (YBR265W, the only gene of a Yeast9 reaction's rule): the
    DAmP allele (tsc10_damp) and the ts allele (tsc10-1) keep the gene, its edges and its
    reactions; the same gene deleted removes them. The kind reaches the model per gene."""
    data = CellDataset(dataset_dir, PerturbationRepresentation)
    processor = data.processor
    cell = processor.cell
    tsc10 = cell.genes.index("YBR265W")
    kinds = data.manifest.kinds
    records = [r for r in data.records() if r.genes == [tsc10]]
    by_kind = {kinds[r.kinds[0]]: r for r in records}
    assert {"damp", "temperature_sensitive"} <= set(by_kind), sorted(by_kind)
    assert by_kind["damp"].alleles == ["tsc10_damp"]
    deleted = dataclasses.replace(by_kind["damp"], kinds=[kinds.index("deletion")], alleles=[""])
    batch = processor.collate([by_kind["damp"], by_kind["temperature_sensitive"], deleted])
    masks = processor.masks(batch)
    assert masks["gene"][:, tsc10].tolist() == [False, False, True]
    catalyzed = cell.gpr_edges[1][cell.gpr_edges[0] == tsc10]
    lost = masks["reaction"][:, catalyzed].any(dim=1)
    assert lost.tolist() == [False, False, True], "hypomorphs keep their reactions"
    assert batch["gene"].perturbed_kind.tolist() == [
        kinds.index("damp"), kinds.index("temperature_sensitive"), kinds.index("deletion")
    ]  # fmt: skip
    subgraph = SubgraphRepresentation(cell)
    assert not subgraph(by_kind["damp"])["gene"].pert_mask[tsc10]
    assert subgraph(deleted)["gene"].pert_mask[tsc10]


def cell_rules(root) -> list[str]:
    return torch.load(root / "cell_graph.pt", weights_only=True)["gpr_rules"]


def test_subgraph_and_perturbation_representations_agree(dataset_dir):
    cell = CellGraph.load(dataset_dir)
    subgraph = CellDataset(dataset_dir, SubgraphRepresentation)
    perturbation = CellDataset(dataset_dir, PerturbationRepresentation)
    # include samples whose deletions remove reactions (genes of the metabolic model)
    metabolic = set(cell.clause_gene.tolist())
    chosen = [i for i, r in enumerate(subgraph.records()) if set(r.genes) & metabolic][:16] + list(
        range(16)
    )
    sub_batch = Batch.from_data_list([subgraph[i] for i in chosen])
    pert_batch = Batch.from_data_list([perturbation[i] for i in chosen])
    from_subgraph = SubgraphRepresentation.masks(sub_batch)
    from_perturbation = perturbation.processor.masks(pert_batch)
    assert from_subgraph.keys() == from_perturbation.keys()
    for key in from_subgraph:
        assert torch.equal(from_subgraph[key], from_perturbation[key]), key
    assert from_subgraph["reaction"].any(), "the batch should remove some reactions"
    # The subgraph's own edges are exactly the wildtype edges that survive, renumbered.
    for b, i in enumerate(chosen[:4]):
        sample = subgraph[i]
        for edge_type in EDGE_TYPES:
            key = "hyperedge_index" if edge_type == METABOLISM else "edge_index"
            src, _, dst = edge_type
            local = sample[edge_type][key]
            rows = (METABOLISM[0], "reaction") if edge_type == METABOLISM else (src, dst)
            global_edges = torch.stack(
                [sample[rows[0]].node_ids[local[0]], sample[rows[1]].node_ids[local[1]]]
            )
            wildtype = cell.edge_index(edge_type)[:, ~from_perturbation[edge_type][b]]
            assert torch.equal(global_edges, wildtype), edge_type


def test_every_sample_carries_every_type_even_empty(dataset_dir):
    for processor in (SubgraphRepresentation, PerturbationRepresentation):
        dataset = CellDataset(dataset_dir, processor)
        sample = dataset[0]
        assert set(NODE_TYPES) <= set(sample.node_types)
        assert set(EDGE_TYPES) <= set(sample.edge_types)
    single = next(i for i, r in enumerate(CellDataset(dataset_dir).records()) if len(r.genes) == 1)
    dataset = CellDataset(dataset_dir, SubgraphRepresentation)
    batch = Batch.from_data_list([dataset[single], dataset[0]])
    assert set(EDGE_TYPES) <= set(batch.edge_types) and GPR in batch.edge_types


def test_dcell_view_marks_mutant_genes_per_term(dataset_dir):
    dataset = CellDataset(dataset_dir, lambda cell: DCellRepresentation(cell, min_genes=4))
    view = dataset.processor
    assert len(view.terms) > 0 and (view.term_sizes >= 4).all()
    record = dataset.record(5)
    state = dataset[5]["gene_ontology"].mutant_state
    assert state.shape == view.pair_gene.shape
    assert torch.equal(state.bool(), torch.isin(view.pair_gene, torch.tensor(record.genes)))


def test_held_out_splits_keep_test_genes_and_pairs_out_of_training(dataset_dir):
    genes_split = CellDataModule(dataset_dir, split="held_out_genes", seed=1)
    train_genes = {
        g for i in genes_split.indices["train"].tolist() for g in genes_split.genotypes[i]
    }
    test_genes = {g for i in genes_split.indices["test"].tolist() for g in genes_split.genotypes[i]}
    assert len(genes_split.indices["test"]) > 0
    assert all(
        set(genes_split.genotypes[i]) - train_genes for i in genes_split.indices["test"].tolist()
    )
    assert test_genes - train_genes

    pairs_split = CellDataModule(dataset_dir, split="held_out_pairs", seed=1)

    def pairs(i):
        g = sorted(pairs_split.genotypes[i])
        return {(a, b) for k, a in enumerate(g) for b in g[k + 1 :]}

    train_pairs = {p for i in pairs_split.indices["train"].tolist() for p in pairs(i)}
    assert len(pairs_split.indices["test"]) > 0
    assert all(pairs(i) - train_pairs for i in pairs_split.indices["test"].tolist())
    total = sum(len(v) for v in pairs_split.indices.values())
    assert total == len(pairs_split.dataset)


def test_label_standardizer_is_invertible(tmp_path):
    y = torch.tensor([[1.0, float("nan")], [3.0, 2.0], [5.0, 4.0]])
    scaler = LabelStandardizer.fit(["fitness", "gene_interaction"], y)
    z = scaler.transform(y)
    assert torch.allclose(torch.nanmean(z, 0), torch.zeros(2), atol=1e-6)
    assert torch.allclose(scaler.inverse(z), y, equal_nan=True)
    scaler.save(tmp_path / "s.json")
    again = LabelStandardizer.load(tmp_path / "s.json")
    assert torch.equal(again.mean, scaler.mean) and torch.equal(again.std, scaler.std)


def test_replicate_merging():
    labels = [
        "fitness",
        "fitness_std",
        "fitness_se",
        "gene_interaction",
        "gene_interaction_p_value",
    ]
    keys = ["fitness", "fitness_std", "gene_interaction", "gene_interaction_p_value"]
    single = [dict(zip(keys, [0.9, 0.05, -0.1, 0.01], strict=True))]
    assert merge(labels, single) == [0.9, 0.05, None, -0.1, 0.01], "one measurement: unchanged"
    rows = [[0.8, 0.03, -0.2, 0.04], [1.0, 0.04, None, 0.5]]
    merged = merge(labels, [dict(zip(keys, r, strict=True)) for r in rows])
    assert merged[0] == pytest.approx(0.9)
    assert merged[1] == pytest.approx(((0.03**2 + 0.04**2) / 2) ** 0.5), (
        "a measurement SD stays one"
    )
    assert merged[2] == pytest.approx(0.1414213 / 2**0.5, rel=1e-5), "between-replicate SE"
    assert merged[3] == pytest.approx(-0.2)  # the only measured value
    assert merged[4] == pytest.approx(0.04), "p-values combine only where a score gives the sign"
    assert signed_stouffer([0.05], [0.3]) == pytest.approx(0.05)
    assert 0 < signed_stouffer([0.01, 0.01], [0.2, 0.1]) < 0.01, "agreeing replicates strengthen"


def test_dataset_workers_open_their_own_lmdb(dataset_dir):
    data = CellDataModule(dataset_dir, split="random", batch_size=64, num_workers=2)
    batches = list(data.loader("val"))
    assert sum(b.y.shape[0] for b in batches) == len(data.indices["val"])
    assert os.getpid()  # the loaders ran in worker processes without sharing handles


def test_batched_masks_equal_a_dense_reference(dataset_dir):
    """removed_masks visits only the deleted genes' neighbourhoods; check it against the plain
    definition (an edge goes when an endpoint goes; a reaction when every clause is hit)."""
    cell = CellGraph.load(dataset_dir)
    generator = torch.Generator().manual_seed(3)
    rules = cell_rules(dataset_dir)
    for rate in (0.002, 0.02, 0.2):
        removed = torch.rand(16, len(cell.genes), generator=generator) < rate
        masks = cell.removed_masks(removed)
        for b in range(16):
            deleted = {cell.genes[i] for i in removed[b].nonzero().flatten().tolist()}
            want_reactions = torch.tensor([not is_active(rule or None, deleted) for rule in rules])
            assert torch.equal(masks["reaction"][b], want_reactions)
        for edge_type in EDGE_TYPES:
            index = cell.edge_index(edge_type)
            if edge_type == GPR:
                want = removed[:, index[0]] | masks["reaction"][:, index[1]]
            elif edge_type == METABOLISM:
                want = masks["reaction"][:, index[1]]
            else:
                want = removed[:, index[0]] | removed[:, index[1]]
            assert torch.equal(masks[edge_type], want), edge_type
