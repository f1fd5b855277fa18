"""Training throughput per model at the real cell-graph scale, batch 32.

    python benchmarks/train_step.py [--steps 10] [--device cpu|cuda] [--batch-size 32]

The cell graph is the generated real-scale one of ``benchmarks/dataset.py`` (6,600 genes,
144,000 physical and 16,000 regulatory edges, 4,900 reactions, 2,500 metabolites, 5,000 GO
terms in a DAG). A step is forward + loss + backward + AdamW update on 32 double/triple
mutants. Two comparisons run in the same process:

* DCell term by term (one Linear/Tanh/BatchNorm/auxiliary head per GO term, in topological
  order, as reimplementations did) against ``DCell`` (one batched matmul per group of similar
  terms per stratum);
* HeteroCell as designed (``encoder="perturbed"``: message passing on every sample's perturbed
  cell) computed incrementally (the wildtype once, each perturbed cell as the rows its
  deletions change, ``torchcell.models.incremental``) against the full recomputation of every
  cell as (N, B + 1, D) states (``incremental=False``; the same outputs, tested);
* HeteroCell as designed against its cheaper named variant (``encoder="wildtype"``: message
  passing once on the wildtype, deletions only leave the pooling). Both are real models; the
  ratio is what the design's model costs over the variant;
* on a CPU, HeteroCell as designed with glibc's default heap (every freed tensor above 32 MiB
  unmapped and faulted in again at the next step) against the same after
  ``keep_freed_memory`` (what ``tc train`` does; every other row runs with it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from dataset import real_scale_cell_graph, records  # noqa: E402

from torchcell.cell.ontology import Ontology  # noqa: E402
from torchcell.cell.processors import PerturbationRepresentation  # noqa: E402
from torchcell.losses import dcell_loss, masked_mse  # noqa: E402
from torchcell.models import Dango, DCell, GeneSetModel, HeteroCell, ModelOutput  # noqa: E402
from torchcell.models.base import perturbed_genes  # noqa: E402
from torchcell.models.dcell import neurons  # noqa: E402
from torchcell.train.allocator import keep_freed_memory  # noqa: E402


class TermByTermDCell(nn.Module):
    """The baseline: the same subsystems, each its own small layer, run one term at a time."""

    def __init__(self, cell, num_labels: int, min_genes: int):
        super().__init__()
        self.onto = Ontology.from_cell(cell, min_genes, exclude_evidence=())  # generated GO
        self.num_genes = len(cell.genes)
        self.order = [t for stratum in self.onto.strata for t in stratum]
        self.layers, self.norms, self.aux = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for t in range(len(self.onto.terms)):
            width = len(self.onto.direct_genes[t]) + sum(
                neurons(self.onto.sizes[c]) for c in self.onto.children[t]
            )
            self.layers.append(nn.Linear(max(width, 1), neurons(self.onto.sizes[t])))
            self.norms.append(nn.BatchNorm1d(neurons(self.onto.sizes[t])))
            self.aux.append(nn.Linear(neurons(self.onto.sizes[t]), num_labels))
        self.head = nn.Linear(neurons(self.onto.sizes[-1]), num_labels)

    def forward(self, batch) -> ModelOutput:
        state = perturbed_genes(batch, self.num_genes).float()  # as DCell: any allele kind
        out, aux = {}, []
        for t in self.order:
            parts = [state[:, self.onto.direct_genes[t]]] + [out[c] for c in self.onto.children[t]]
            x = torch.cat(parts, dim=1) if parts else state[:, :1] * 0
            out[t] = self.norms[t](torch.tanh(self.layers[t](x)))
            aux.append(self.aux[t](out[t]))
        return ModelOutput(self.head(out[self.order[-1]]), None, torch.stack(aux[:-1], dim=1))


def step_rate(model, batches, device, steps: int) -> float:
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step(batch):
        batch = batch.to(device)
        out = model(batch)
        target = batch.y[:, :1]
        if out.auxiliary is not None:
            loss = dcell_loss(out.pred, out.auxiliary, target)
        else:
            loss = masked_mse(out.pred, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step(batches[0])  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for batch in batches[:steps]:
        step(batch)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batches[0].y.shape[0] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--baseline-steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--min-genes", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    device = torch.device(args.device)
    cell = real_scale_cell_graph()
    processor = PerturbationRepresentation(cell)
    data = records((args.steps + 1) * args.batch_size)
    batches = [
        processor.collate(data[i : i + args.batch_size])
        for i in range(0, len(data), args.batch_size)
    ]
    labels = 1
    embeddings = torch.randn(3, len(cell.genes), 64)
    dcell = DCell(cell, labels, min_genes=args.min_genes, norm="batch", exclude_evidence=())
    print(
        f"real-scale cell graph: {len(cell.genes):,} genes, {cell.physical.shape[1]:,} physical, "
        f"{cell.regulatory.shape[1]:,} regulatory edges, {len(cell.reactions):,} reactions, "
        f"{len(cell.metabolites):,} metabolites; DCell: {len(dcell.ontology.terms) - 1:,} GO "
        f"terms in {len(dcell.ontology.strata)} strata, "
        f"{sum(len(g) for g in dcell.strata)} batched groups; batch {args.batch_size}, {device}"
    )
    rates = {}
    if device.type == "cpu":  # glibc's default heap first: the process keeps the setting
        rates["default heap"] = step_rate(
            HeteroCell(cell, labels, hidden=64), batches, device, args.steps
        )
        print(f"{'hetero_cell, glibc default heap':<42} {rates['default heap']:>10,.1f} samples/s")
    kept = keep_freed_memory()  # as tc train does
    for name, model, steps in (
        ("gene_set", GeneSetModel(len(cell.genes), labels), args.steps),
        ("hetero_cell", HeteroCell(cell, labels, hidden=64), args.steps),
        (
            "hetero_cell, full recomputation",
            HeteroCell(cell, labels, hidden=64, incremental=False),
            args.baseline_steps,
        ),
        (
            "hetero_cell, wildtype encoder",
            HeteroCell(cell, labels, hidden=64, encoder="wildtype"),
            args.steps,
        ),
        ("dcell", dcell, args.steps),
        ("dcell, term by term", TermByTermDCell(cell, labels, args.min_genes), args.baseline_steps),
        ("dango", Dango(cell, labels, {"embeddings": embeddings}), args.steps),
    ):
        rates[name] = step_rate(model, batches, device, steps)
        print(f"{name:<42} {rates[name]:>10,.1f} samples/s")
    print(
        f"dcell batched per stratum / term by term: "
        f"{rates['dcell'] / rates['dcell, term by term']:.1f}x"
    )
    if "default heap" in rates:
        print(
            f"hetero_cell, freed memory kept (glibc mallopt applied: {kept}) / glibc default heap: "
            f"{rates['hetero_cell'] / rates['default heap']:.1f}x"
        )
    print(
        f"hetero_cell incremental / full recomputation: "
        f"{rates['hetero_cell'] / rates['hetero_cell, full recomputation']:.1f}x"
    )
    print(
        f"hetero_cell wildtype encoder / perturbed encoder: "
        f"{rates['hetero_cell, wildtype encoder'] / rates['hetero_cell']:.1f}x"
    )


if __name__ == "__main__":
    main()
