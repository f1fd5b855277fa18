"""The wildtype cell graph (``cell_graph.pt``) and what deletions do to it.

Node types: ``gene``, ``reaction``, ``metabolite``. Edge types (index tensors over the
wildtype): ``(gene, physical, gene)``, ``(gene, regulatory, gene)``, ``(gene, gpr, reaction)``
(a gene in any clause of the reaction's rule), and the metabolic hypergraph
``(metabolite, reaction, metabolite)`` stored as an incidence: rows (metabolite, reaction) with
signed stoichiometric coefficients. GPR rules are kept as clauses (an OR of AND-sets), so a
reaction is lost exactly when every clause has a deleted gene. The GO DAG and the
gene → term annotations serve DCell.

All mask functions take ``removed``: a (B, num_genes) bool tensor of deleted genes, and work
on any device, for a whole batch at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from torchcell.store.cell_graph import FORMAT
from torchcell.store.manifest import CELL_GRAPH

GENE_EDGES = {
    ("gene", "physical", "gene"): "physical",
    ("gene", "regulatory", "gene"): "regulatory",
}
GPR = ("gene", "gpr", "reaction")
METABOLISM = ("metabolite", "reaction", "metabolite")
NODE_TYPES = ("gene", "reaction", "metabolite")
EDGE_TYPES = (*GENE_EDGES, GPR, METABOLISM)


@dataclass
class CellGraph:
    genes: list[str]
    reactions: list[str]
    metabolites: list[str]
    go_terms: list[str]
    physical: torch.Tensor
    regulatory: torch.Tensor
    gpr_edges: torch.Tensor
    """(2, K) unique (gene, reaction) pairs of the rules."""
    clause_reaction: torch.Tensor
    clause_index: torch.Tensor
    clause_gene: torch.Tensor
    stoich_index: torch.Tensor
    """(2, S): row 0 metabolite, row 1 reaction (the hyperedge)."""
    stoich_coefficient: torch.Tensor
    go_edges: torch.Tensor
    go_annotations: torch.Tensor
    """(2, A) gene, term: one column per (gene, term, evidence code)."""
    string: dict[str, torch.Tensor] = field(default_factory=dict)
    """STRING action networks by mode (binding, reaction, ...): (2, E), lower index first."""
    go_evidence: list[str] = field(default_factory=list)
    """The GAF evidence code of each ``go_annotations`` column (IDA, IMP, IGI, ...); empty when
    the graph was built without codes."""
    go_references: list[list[str]] = field(default_factory=list)
    """The GAF references (PMID:…, SGD_REF:…) behind each ``go_annotations`` column."""

    @classmethod
    def load(cls, root: Path) -> CellGraph:
        raw = torch.load(Path(root) / CELL_GRAPH, weights_only=True)
        if raw["format"] != FORMAT:
            raise ValueError(
                f"cell graph format {raw['format']} is not supported (this code reads {FORMAT})"
            )
        pairs = (
            torch.stack([raw["gpr_gene"], raw["gpr_clause_reaction"][raw["gpr_clause"]]])
            if raw["gpr_gene"].numel()
            else torch.empty(2, 0, dtype=torch.long)
        )
        gpr_edges = torch.unique(pairs, dim=1) if pairs.numel() else pairs
        return cls(
            genes=raw["genes"],
            reactions=raw["reactions"],
            metabolites=raw["metabolites"],
            go_terms=raw["go_terms"],
            physical=raw["physical"],
            regulatory=raw["regulatory"],
            gpr_edges=gpr_edges,
            clause_reaction=raw["gpr_clause_reaction"],
            clause_index=raw["gpr_clause"],
            clause_gene=raw["gpr_gene"],
            stoich_index=raw["stoich_index"].flip(0),
            stoich_coefficient=raw["stoich_coefficient"],
            go_edges=raw["go_edges"],
            go_annotations=raw["go_annotations"],
            string=dict(raw.get("string", {})),
            go_evidence=list(raw["go_evidence"]),
            go_references=[list(refs) for refs in raw["go_references"]],
        )

    def num_nodes(self, node_type: str) -> int:
        return len(
            {"gene": self.genes, "reaction": self.reactions, "metabolite": self.metabolites}[
                node_type
            ]
        )

    def edge_index(self, edge_type: tuple[str, str, str]) -> torch.Tensor:
        if edge_type in GENE_EDGES:
            return getattr(self, GENE_EDGES[edge_type])
        return self.gpr_edges if edge_type == GPR else self.stoich_index

    def to(self, device: torch.device | str) -> CellGraph:
        moved = {
            k: (v.to(device) if isinstance(v, torch.Tensor) else v)
            for k, v in self.__dict__.items()
        }
        moved["string"] = {mode: e.to(device) for mode, e in self.string.items()}
        return CellGraph(**moved)

    # --- what a deletion removes, for a batch -------------------------------------------------
    #
    # Every step visits only what touches the deleted genes (through CSR incidence lists built
    # once per device), so the cost grows with the number of deletions in the batch, not with
    # batch size × the number of wildtype edges.

    def _csr(self, name: str, keys: torch.Tensor, values: torch.Tensor, size: int, device) -> tuple:
        cache = self.__dict__.setdefault("_csr_cache", {})
        if (name, str(device)) not in cache:
            keys, values = keys.to(device), values.to(device)
            order = torch.argsort(keys, stable=True)
            pointer = torch.zeros(size + 1, dtype=torch.long, device=device)
            pointer[1:] = torch.cumsum(torch.bincount(keys, minlength=size), 0)
            cache[(name, str(device))] = (pointer, values[order])
        return cache[(name, str(device))]

    @staticmethod
    def _expand(
        csr: tuple, sample: torch.Tensor, key: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(sample, value) for every value listed under each (sample, key)."""
        pointer, values = csr
        counts = pointer[key + 1] - pointer[key]
        first = torch.repeat_interleave(pointer[key], counts)
        offset = torch.arange(int(counts.sum()), device=key.device) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts
        )
        return torch.repeat_interleave(sample, counts), values[first + offset]

    @staticmethod
    def _scatter(
        batch: int, size: int, sample: torch.Tensor, position: torch.Tensor
    ) -> torch.Tensor:
        mask = torch.zeros(batch, size, dtype=torch.bool, device=sample.device)
        mask[sample, position] = True
        return mask

    def reaction_removed(self, removed: torch.Tensor) -> torch.Tensor:
        """(B, R) bool: reactions whose every GPR clause contains a deleted gene."""
        device, batch = removed.device, removed.shape[0]
        n_reactions, n_clauses = len(self.reactions), self.clause_reaction.numel()
        out = torch.zeros(batch, n_reactions, dtype=torch.bool, device=device)
        if n_clauses == 0:
            return out
        gene_clauses = self._csr(
            "gene_clauses", self.clause_gene, self.clause_index, len(self.genes), device
        )
        sample, gene = removed.nonzero(as_tuple=True)
        sample, clause = self._expand(gene_clauses, sample, gene)
        dead = torch.unique(
            sample * n_clauses + clause
        )  # a clause dies once, however many genes hit it
        sample, clause = dead // n_clauses, dead % n_clauses
        reaction = self.clause_reaction.to(device)[clause]
        key, dead_count = torch.unique(sample * n_reactions + reaction, return_counts=True)
        clauses_per_reaction = torch.bincount(
            self.clause_reaction.to(device), minlength=n_reactions
        )
        lost = dead_count == clauses_per_reaction[key % n_reactions]
        out[key[lost] // n_reactions, key[lost] % n_reactions] = True
        return out

    def removed_masks(self, removed_genes: torch.Tensor) -> dict:
        """Per node and edge type, a (B, size) bool mask of what the deletions remove."""
        device, batch = removed_genes.device, removed_genes.shape[0]
        reactions = self.reaction_removed(removed_genes)
        masks: dict = {
            "gene": removed_genes,
            "reaction": reactions,
            "metabolite": torch.zeros(
                batch, len(self.metabolites), dtype=torch.bool, device=device
            ),
        }
        gene_sample, gene = removed_genes.nonzero(as_tuple=True)
        reaction_sample, reaction = reactions.nonzero(as_tuple=True)
        for edge_type in GENE_EDGES:
            index = self.edge_index(edge_type)
            ends = torch.cat([index[0], index[1]])
            ids = torch.arange(index.shape[1], device=index.device).repeat(2)
            csr = self._csr(edge_type[1], ends, ids, len(self.genes), device)
            masks[edge_type] = self._scatter(
                batch, index.shape[1], *self._expand(csr, gene_sample, gene)
            )
        n_gpr = self.gpr_edges.shape[1]
        by_gene = self._csr(
            "gpr_by_gene", self.gpr_edges[0], torch.arange(n_gpr), len(self.genes), device
        )
        by_reaction = self._csr(
            "gpr_by_reaction", self.gpr_edges[1], torch.arange(n_gpr), len(self.reactions), device
        )
        masks[GPR] = self._scatter(batch, n_gpr, *self._expand(by_gene, gene_sample, gene))
        masks[GPR] |= self._scatter(
            batch, n_gpr, *self._expand(by_reaction, reaction_sample, reaction)
        )
        n_stoich = self.stoich_index.shape[1]
        stoich = self._csr(
            "stoich_by_reaction",
            self.stoich_index[1],
            torch.arange(n_stoich),
            len(self.reactions),
            device,
        )
        masks[METABOLISM] = self._scatter(
            batch, n_stoich, *self._expand(stoich, reaction_sample, reaction)
        )
        return masks
