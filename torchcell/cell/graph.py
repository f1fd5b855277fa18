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

from dataclasses import dataclass
from pathlib import Path

import torch

from torchcell.store.cell_graph import FILE, FORMAT

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

    @classmethod
    def load(cls, root: Path) -> CellGraph:
        raw = torch.load(Path(root) / FILE, weights_only=True)
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
        return CellGraph(**moved)

    # --- what a deletion removes, for a batch -------------------------------------------------

    def reaction_removed(self, removed: torch.Tensor) -> torch.Tensor:
        """(B, R) bool: reactions whose every GPR clause contains a deleted gene."""
        batch = removed.shape[0]
        n_clauses = self.clause_reaction.numel()
        clause_dead = torch.zeros(batch, n_clauses, dtype=torch.bool, device=removed.device)
        if n_clauses:
            hit = removed[:, self.clause_gene].to(torch.int8)
            dead = torch.zeros(batch, n_clauses, dtype=torch.int8, device=removed.device)
            dead.scatter_reduce_(1, self.clause_index.expand(batch, -1), hit, reduce="amax")
            clause_dead = dead.bool()
        alive = torch.zeros(batch, len(self.reactions), dtype=torch.int8, device=removed.device)
        alive.scatter_reduce_(
            1, self.clause_reaction.expand(batch, -1), (~clause_dead).to(torch.int8), reduce="amax"
        )
        has_rule = torch.zeros(len(self.reactions), dtype=torch.bool, device=removed.device)
        has_rule[self.clause_reaction] = True
        return has_rule & ~alive.bool()

    def removed_masks(self, removed_genes: torch.Tensor) -> dict:
        """Per node and edge type, a (B, size) bool mask of what the deletions remove."""
        reactions = self.reaction_removed(removed_genes)
        masks: dict = {
            "gene": removed_genes,
            "reaction": reactions,
            "metabolite": torch.zeros(
                removed_genes.shape[0],
                len(self.metabolites),
                dtype=torch.bool,
                device=removed_genes.device,
            ),
        }
        for edge_type in GENE_EDGES:
            index = self.edge_index(edge_type)
            masks[edge_type] = removed_genes[:, index[0]] | removed_genes[:, index[1]]
        masks[GPR] = removed_genes[:, self.gpr_edges[0]] | reactions[:, self.gpr_edges[1]]
        masks[METABOLISM] = reactions[:, self.stoich_index[1]]
        return masks

    def gene_mask(self, perturbed: list[torch.Tensor]) -> torch.Tensor:
        """(B, N) bool from each sample's perturbed gene indices."""
        mask = torch.zeros(len(perturbed), len(self.genes), dtype=torch.bool)
        for b, genes in enumerate(perturbed):
            mask[b, genes] = True
        return mask
