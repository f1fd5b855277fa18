"""GraphProcessors: one stored experiment + the wildtype cell graph → what a model consumes.

Only a deletion removes a gene. Hypomorphic and conditional alleles (temperature-sensitive,
DAmP, suppressor) leave the gene, its edges and its GPR logic in place; they reach the models
through ``perturbed_kind`` (one allele kind per perturbed gene) and the sample's environment
(its temperature), so a ts allele at the permissive 26 °C is not modelled as a null.

* ``PerturbationRepresentation``: only the perturbed gene indices; a batch is expanded into
  removal masks over the single wildtype graph (``masks``), on whatever device the batch is,
  instead of collating per-sample copies. The fast path for training.
* ``SubgraphRepresentation``: the perturbed ``HeteroData`` itself: deleted genes and their
  edges removed, reactions removed exactly when their GPR rule is false, with ``node_ids`` /
  ``edge_ids`` into the wildtype and a ``pert_mask`` (True = removed) on every node and edge type.
* ``DCellRepresentation``: the GO subsystem view for DCell: the terms of its filtered
  ``Ontology`` (``torchcell.cell.ontology``), and per sample the mutant state of every
  (term, gene) pair.

Every sample carries every node and edge type, even empty, because PyG's
``Batch.from_data_list`` keeps only the types of the first sample.
"""

from __future__ import annotations

import torch

from torchcell.cell.data import CellData
from torchcell.cell.graph import EDGE_TYPES, GENE_EDGES, GPR, METABOLISM, NODE_TYPES, CellGraph
from torchcell.cell.ontology import Ontology
from torchcell.schema import PERTURBATION_KINDS
from torchcell.store.records import StoredExperiment

DELETION = PERTURBATION_KINDS.index("deletion")


def _labels(data: CellData, record: StoredExperiment) -> CellData:
    data.y = torch.tensor(
        [[float("nan") if v is None else v for v in record.labels]], dtype=torch.float32
    )
    data.environment = torch.tensor([record.environment], dtype=torch.long)
    data.dataset = torch.tensor([record.dataset], dtype=torch.long)
    data.measurements = torch.tensor([record.n], dtype=torch.long)
    data.experiment_id = record.id
    return data


def _perturbation(data: CellData, record: StoredExperiment) -> None:
    data["gene"].perturbed = torch.tensor(record.genes, dtype=torch.long)
    data["gene"].perturbed_kind = torch.tensor(record.kinds, dtype=torch.long)
    data.num_perturbed = torch.tensor([len(record.genes)], dtype=torch.long)


def perturbed_sets(batch) -> tuple[torch.Tensor, torch.Tensor]:
    """(sample of each perturbed gene, position within its sample), both (K,)."""
    counts = batch.num_perturbed
    sample = torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts)
    start = torch.cumsum(counts, 0) - counts
    position = torch.arange(sample.numel(), device=counts.device) - start[sample]
    return sample, position


def perturbed_genes(batch, num_genes: int, deletions_only: bool = False) -> torch.Tensor:
    """(B, N) bool of the genes each sample perturbs (any allele kind, or deletions only)."""
    counts = batch.num_perturbed
    sample, _ = perturbed_sets(batch)
    genes = batch["gene"].perturbed
    if deletions_only:
        deleted = batch["gene"].perturbed_kind == DELETION
        sample, genes = sample[deleted], genes[deleted]
    out = torch.zeros(counts.numel(), num_genes, dtype=torch.bool, device=counts.device)
    out[sample, genes] = True
    return out


def removed_genes(batch, num_genes: int) -> torch.Tensor:
    """(B, N) bool of the genes a batch *deletes*: the only kind that removes a gene from the
    graph views (see the module docstring)."""
    return perturbed_genes(batch, num_genes, deletions_only=True)


class PerturbationRepresentation:
    def __init__(self, cell: CellGraph):
        self.cell = cell

    def __call__(self, record: StoredExperiment) -> CellData:
        data = CellData()
        for node_type in NODE_TYPES:
            data[node_type].num_nodes = 0  # the wildtype is not copied; ``masks`` expands it
        for edge_type in EDGE_TYPES:
            key = "hyperedge_index" if edge_type == METABOLISM else "edge_index"
            data[edge_type][key] = torch.empty(2, 0, dtype=torch.long)
        _perturbation(data, record)
        return _labels(data, record)

    def collate(self, records: list[StoredExperiment]) -> CellData:
        """A batch straight from stored records: concatenated indices, stacked labels.

        The fast path (``CellDataModule`` uses it): nothing per sample but a few numbers, no
        per-sample HeteroData, and ``masks`` expands the batch over the wildtype graph.
        """
        batch = CellData()
        batch["gene"].perturbed = torch.tensor(
            [g for r in records for g in r.genes], dtype=torch.long
        )
        batch["gene"].perturbed_kind = torch.tensor(
            [k for r in records for k in r.kinds], dtype=torch.long
        )
        batch.num_perturbed = torch.tensor([len(r.genes) for r in records], dtype=torch.long)
        nan = float("nan")
        batch.y = torch.tensor(
            [[nan if v is None else v for v in r.labels] for r in records], dtype=torch.float32
        )
        batch.environment = torch.tensor([r.environment for r in records], dtype=torch.long)
        batch.dataset = torch.tensor([r.dataset for r in records], dtype=torch.long)
        batch.measurements = torch.tensor([r.n for r in records], dtype=torch.long)
        batch.experiment_id = [r.id for r in records]
        return batch

    def masks(self, batch, cell: CellGraph | None = None) -> dict:
        """Removal masks (B, size) for every node and edge type, computed on the batch's device."""
        cell = cell or self.cell
        return cell.removed_masks(removed_genes(batch, len(cell.genes)))


class SubgraphRepresentation:
    def __init__(self, cell: CellGraph):
        self.cell = cell

    def __call__(self, record: StoredExperiment) -> CellData:
        cell = self.cell
        removed = torch.zeros(1, len(cell.genes), dtype=torch.bool)
        removed[
            0, [g for g, k in zip(record.genes, record.kinds, strict=True) if k == DELETION]
        ] = True
        masks = {k: v[0] for k, v in cell.removed_masks(removed).items()}
        data = CellData()
        new_index = {}
        for node_type in NODE_TYPES:
            keep = ~masks[node_type]
            ids = keep.nonzero().flatten()
            lookup = torch.full((keep.numel(),), -1, dtype=torch.long)
            lookup[ids] = torch.arange(ids.numel())
            new_index[node_type] = lookup
            data[node_type].node_ids = ids
            data[node_type].num_nodes = ids.numel()
            data[node_type].pert_mask = masks[node_type]
        for edge_type in (*GENE_EDGES, GPR):
            keep = ~masks[edge_type]
            index = cell.edge_index(edge_type)[:, keep]
            src, _, dst = edge_type
            data[edge_type].edge_index = torch.stack(
                [new_index[src][index[0]], new_index[dst][index[1]]]
            )
            data[edge_type].edge_ids = keep.nonzero().flatten()
            data[edge_type].pert_mask = masks[edge_type]
        keep = ~masks[METABOLISM]
        index = cell.stoich_index[:, keep]
        data[METABOLISM].hyperedge_index = torch.stack(
            [new_index["metabolite"][index[0]], new_index["reaction"][index[1]]]
        )
        data[METABOLISM].stoichiometry = cell.stoich_coefficient[keep]
        data[METABOLISM].edge_ids = keep.nonzero().flatten()
        data[METABOLISM].pert_mask = masks[METABOLISM]
        _perturbation(data, record)
        return _labels(data, record)

    @staticmethod
    def masks(batch) -> dict:
        """The batch's removal masks, (B, size) per type, read from its ``pert_mask``s."""
        size = batch.num_graphs
        out = {node_type: batch[node_type].pert_mask.view(size, -1) for node_type in NODE_TYPES}
        out.update(
            {edge_type: batch[edge_type].pert_mask.view(size, -1) for edge_type in EDGE_TYPES}
        )
        return out


class DCellRepresentation:
    """Per sample, the mutant state of every (kept term, gene) pair of DCell's ``Ontology``."""

    def __init__(
        self,
        cell: CellGraph,
        min_genes: int = 6,
        exclude_evidence: tuple[str, ...] = ("IGI",),
        merge_redundant: bool = True,
    ):
        self.cell = cell
        self.ontology = onto = Ontology.from_cell(
            cell, min_genes, exclude_evidence, merge_redundant
        )
        n = len(onto.terms) - 1  # the added root is not a GO term
        self.terms = onto.terms[:n]
        pairs = [(t, g) for t in range(n) for g in sorted(onto.gene_sets[t])]
        self.pair_term = torch.tensor([p[0] for p in pairs], dtype=torch.long)
        self.pair_gene = torch.tensor([p[1] for p in pairs], dtype=torch.long)
        edges = [(c, p) for p in range(n) for c in onto.children[p]]
        self.term_edges = (
            torch.tensor(edges, dtype=torch.long).t()
            if edges
            else torch.empty(2, 0, dtype=torch.long)
        )
        self.term_sizes = torch.tensor(onto.sizes[:n], dtype=torch.long)

    def __call__(self, record: StoredExperiment) -> CellData:
        data = CellData()
        state = torch.isin(self.pair_gene, torch.tensor(record.genes, dtype=torch.long)).float()
        data["gene_ontology"].mutant_state = state
        data["gene_ontology"].num_nodes = len(self.terms)
        _perturbation(data, record)
        return _labels(data, record)
