"""Dataset throughput: naive full-graph copies vs SubgraphRepresentation vs PerturbationRepresentation.

    python benchmarks/dataset.py [--batches 30] [--materialize 200000]

Part 1 builds a cell graph at the real scale (6,600 genes, 144,000 physical and 16,000
regulatory edges, 4,900 reactions with GPR rules, 2,500 metabolites; generated) and times
batches of 32 double/triple mutants through (a) a per-sample copy of the full wildtype graph
with its masks + PyG collate, (b) SubgraphRepresentation + collate, (c) PerturbationRepresentation
+ collate + the batch's mask expansion. Prints samples/s and the ratios against (a).

Part 2 (``--materialize N``): bulk-imports N generated double mutants into a fresh local Neo4j,
materializes them with one shard and reports experiments/s and LMDB bytes per experiment.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import torch
from torch_geometric.data import Batch, HeteroData

from torchcell.cell.data import CellData
from torchcell.cell.graph import EDGE_TYPES, METABOLISM, NODE_TYPES, CellGraph
from torchcell.cell.processors import PerturbationRepresentation, SubgraphRepresentation
from torchcell.store.cell_graph import FORMAT
from torchcell.store.records import StoredExperiment

GENES, PHYSICAL, REGULATORY, REACTIONS, METABOLITES, GO_TERMS = (
    6_600,
    144_000,
    16_000,
    4_900,
    2_500,
    5_000,
)


def go_dag(terms: int, g: torch.Generator) -> torch.Tensor:
    """(2, E) child → parent edges: a 4-ary tree plus a second parent for a third of the terms
    (one level up, as GO's multiple inheritance), so acyclic and about 7 levels deep."""
    child = torch.arange(1, terms)
    parent = (child - 1) // 4
    extra = child[(torch.rand(terms - 1, generator=g) < 0.33) & (parent > 0)]
    second = torch.randint(0, 1, extra.shape) + (extra - 1) // 4 - 1
    return torch.cat([torch.stack([child, parent]), torch.stack([extra, second.clamp_min(0)])], 1)


def real_scale_cell_graph(seed: int = 0) -> CellGraph:
    g = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    clause_reaction, clause_index, clause_gene = [], [], []
    for r in range(REACTIONS):
        for _ in range(rng.choice([0, 1, 1, 2, 3])):  # isozymes
            clause = len(clause_reaction)
            clause_reaction.append(r)
            for gene in rng.sample(range(GENES), rng.choice([1, 1, 2, 3])):  # complexes
                clause_index.append(clause)
                clause_gene.append(gene)
    stoich_reaction = torch.arange(REACTIONS).repeat_interleave(4)
    raw = {
        "format": FORMAT,
        "genes": [f"G{i}" for i in range(GENES)],
        "reactions": [f"R{i}" for i in range(REACTIONS)],
        "gpr_rules": [""] * REACTIONS,
        "metabolites": [f"M{i}" for i in range(METABOLITES)],
        "go_terms": [f"T{i}" for i in range(GO_TERMS)],
        "physical": torch.randint(0, GENES, (2, PHYSICAL), generator=g),
        "regulatory": torch.randint(0, GENES, (2, REGULATORY), generator=g),
        "stoich_index": torch.stack(
            [stoich_reaction, torch.randint(0, METABOLITES, (REACTIONS * 4,), generator=g)]
        ),
        "stoich_coefficient": torch.randn(REACTIONS * 4, generator=g),
        "gpr_clause_reaction": torch.tensor(clause_reaction),
        "gpr_clause": torch.tensor(clause_index),
        "gpr_gene": torch.tensor(clause_gene),
        "go_edges": go_dag(GO_TERMS, g),
        "go_annotations": torch.randint(0, GO_TERMS, (2, 40_000), generator=g)
        % torch.tensor([[GENES], [GO_TERMS]]),
        "go_evidence": ["IEA"] * 40_000,  # generated annotations: no IGI among them
    }
    with tempfile.TemporaryDirectory() as tmp:
        torch.save(raw, Path(tmp) / "cell_graph.pt")
        return CellGraph.load(Path(tmp))


def records(n: int, seed: int = 1) -> list[StoredExperiment]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        genes = sorted(rng.sample(range(GENES), rng.choice([2, 2, 3])))
        out.append(
            StoredExperiment(
                f"{i:032x}",
                genes,
                [0] * len(genes),
                [""] * len(genes),
                0,
                0,
                [rng.random(), rng.gauss(0, 0.05)],
                1,
            )
        )
    return out


class NaiveFullCopy:
    """The baseline: every sample is a full copy of the wildtype graph with its masks."""

    def __init__(self, cell: CellGraph):
        self.cell = cell

    def __call__(self, record: StoredExperiment) -> HeteroData:
        removed = torch.zeros(1, len(self.cell.genes), dtype=torch.bool)
        removed[0, record.genes] = True
        masks = self.cell.removed_masks(removed)
        data = CellData()
        for node_type in NODE_TYPES:
            data[node_type].num_nodes = self.cell.num_nodes(node_type)
            data[node_type].pert_mask = masks[node_type][0]
        for edge_type in EDGE_TYPES:
            key = "hyperedge_index" if edge_type == METABOLISM else "edge_index"
            data[edge_type][key] = self.cell.edge_index(edge_type).clone()
            data[edge_type].pert_mask = masks[edge_type][0]
        data.y = torch.tensor([record.labels])
        return data


def time_batches(make_batch, batches: list[list[StoredExperiment]]) -> float:
    make_batch(batches[0])  # warm up
    start = time.perf_counter()
    for batch in batches:
        make_batch(batch)
    return sum(len(b) for b in batches) / (time.perf_counter() - start)


def part1(n_batches: int, batch_size: int = 32) -> None:
    cell = real_scale_cell_graph()
    data = records(n_batches * batch_size)
    batches = [data[i : i + batch_size] for i in range(0, len(data), batch_size)]
    naive, subgraph, perturbation = (
        NaiveFullCopy(cell),
        SubgraphRepresentation(cell),
        PerturbationRepresentation(cell),
    )
    rates = {
        "(a) naive full-graph copy + collate": time_batches(
            lambda b: Batch.from_data_list([naive(r) for r in b]), batches
        ),
        "(b) SubgraphRepresentation + collate": time_batches(
            lambda b: Batch.from_data_list([subgraph(r) for r in b]), batches
        ),
        "(c) PerturbationRepresentation: collate + masks": time_batches(
            lambda b: perturbation.masks(perturbation.collate(b)), batches
        ),
    }
    print(f"cell graph: {GENES:,} genes, {PHYSICAL:,} physical + {REGULATORY:,} regulatory edges, "
          f"{REACTIONS:,} reactions ({cell.clause_reaction.numel():,} GPR clauses), {METABOLITES:,} metabolites; batch {batch_size}")  # fmt: skip
    base = rates["(a) naive full-graph copy + collate"]
    for name, rate in rates.items():
        print(f"{name:50s} {rate:10,.0f} samples/s  {rate / base:6.1f}x (a)")


def materialize_once(settings, work: Path, name: str, shards: int, workers: int):
    """Materialize the benchmark screen's double mutants with ``shards`` shards; (manifest, seconds)."""
    from torchcell.executors.stage import LocalExecutor
    from torchcell.graphdb.connection import open_driver
    from torchcell.store.materialize import materialize_stage, prepare
    from torchcell.store.spec import DatasetSpec

    spec = DatasetSpec(name=name, datasets=["costanzo2016_dmf"], min_genes=2, max_genes=2,
                       labels=["fitness", "gene_interaction"])  # fmt: skip
    spec_path = work / f"{name}.yaml"
    spec_path.write_text(spec.model_dump_json())
    out = work / name
    start = time.perf_counter()
    with open_driver(settings) as driver:
        prepare(driver, settings.database, spec, out, shards)
    manifest = LocalExecutor(workers).run(materialize_stage(settings, spec_path, out, shards))
    return manifest, time.perf_counter() - start


def part2(n: int) -> None:
    from common import graph_with_screen

    with graph_with_screen(n) as (settings, work):
        materialize_once(settings, work, "warm", 1, 1)  # page cache and query plan warm
        manifest, seconds = materialize_once(settings, work, "dataset", 1, 1)
        size = sum((work / "dataset" / s["file"]).stat().st_size for s in manifest.shards)
        graph_size = (work / "dataset" / "cell_graph.pt").stat().st_size
    print(
        f"materialization: {manifest.count:,} experiments in {seconds:.1f} s = {manifest.count / seconds:,.0f} experiments/s (1 shard)"
    )
    print(f"LMDB: {size:,} bytes = {size / manifest.count:.0f} bytes per experiment "
          f"(the wildtype graph is stored once: cell_graph.pt {graph_size:,} bytes)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--materialize", type=int, default=200_000, help="0 to skip part 2")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    part1(args.batches)
    if args.materialize:
        part2(args.materialize)


if __name__ == "__main__":
    main()
