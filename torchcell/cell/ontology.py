"""The Gene Ontology hierarchy that DCell is built on, filtered as Ma et al. (2018) describe.

From the cell graph's GO DAG (is_a and part_of) and its annotations:

1. annotations with an excluded evidence code are dropped (the paper drops IGI, "inferred from
   genetic interaction": those annotations are derived from the interactions DCell predicts, so
   keeping them leaks labels into the ontology), and so are those whose every reference is the
   publication of a genetic-interaction screen (``SCREEN_REFERENCES``: whatever their evidence
   code, they rest on the screens the models predict; not in the paper);
2. each term's genes are its own annotations plus its descendants' (the true-path rule);
3. terms with fewer than ``min_genes`` genes are dropped (the paper: fewer than 6);
4. optionally, redundant terms are merged: a term whose gene set equals one of its kept
   children's adds no subsystem of its own, so it is removed and its children are rewired to
   its parents (repeated until no such term is left);
5. terms without a kept parent become children of one added root.

``Ontology`` holds the result: children, each term's own genes (those no kept child covers),
sizes and strata (by height, leaves first, the root alone last), plus ``counts`` of what each
step removed, for the training log and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torchcell.cell.graph import CellGraph

SCREEN_REFERENCES = (
    "PMID:16269340",  # Schuldiner et al. 2005, the early secretory pathway E-MAP
    "PMID:17314980",  # Collins et al. 2007, the chromosome biology E-MAP
    "PMID:20093466",  # Costanzo et al. 2010, the genetic landscape of a cell
    "PMID:27708008",  # Costanzo et al. 2016, a global genetic interaction network
    "PMID:29674565",  # Kuzmin et al. 2018, trigenic interactions
)
"""GAF references of the screens whose scores the datasets hold."""


@dataclass
class Ontology:
    terms: list[str]
    """Kept GO ids, then ``"root"`` last."""
    children: list[list[int]]
    direct_genes: list[list[int]]
    sizes: list[int]
    strata: list[list[int]]
    """Term positions by height: leaves first, the root alone last."""
    gene_sets: list[frozenset[int]] = field(default_factory=list)
    """Every gene of each term (own + descendants'), the root's = all annotated genes."""
    counts: dict[str, int] = field(default_factory=dict)
    """excluded_annotations, small_terms, redundant_terms, kept_terms."""

    @classmethod
    def from_cell(
        cls,
        cell: CellGraph,
        min_genes: int = 6,
        exclude_evidence: tuple[str, ...] = ("IGI",),
        merge_redundant: bool = True,
        exclude_references: tuple[str, ...] = SCREEN_REFERENCES,
    ) -> Ontology:
        n_terms = len(cell.go_terms)
        excluded = {e.upper() for e in exclude_evidence}
        screens = set(exclude_references)
        pairs = cell.go_annotations.t().tolist()
        evidence = cell.go_evidence or [""] * len(pairs)
        references = cell.go_references or [[] for _ in pairs]
        if excluded and not cell.go_evidence and pairs:
            raise ValueError(
                "the cell graph carries no GO evidence codes, so annotations with "
                f"{sorted(excluded)} cannot be left out (re-materialize the dataset)"
            )
        kept_pairs = [
            (g, t)
            for (g, t), e, refs in zip(pairs, evidence, references, strict=True)
            if e.upper() not in excluded and not (refs and set(refs) <= screens)
        ]
        parents: list[list[int]] = [[] for _ in range(n_terms)]
        for child, parent in cell.go_edges.t().tolist():
            parents[child].append(parent)
        genes_of = _propagate(kept_pairs, parents, n_terms)
        big = [t for t in range(n_terms) if len(genes_of[t]) >= min_genes]
        counts = {
            "excluded_annotations": len(pairs) - len(kept_pairs),
            "small_terms": n_terms - len(big),
        }
        keep = set(big)
        # the kept DAG: a term's parents are its nearest kept ancestors (a dropped small term
        # has only small descendants, so no kept term loses a path by it)
        up = {t: {p for p in parents[t] if p in keep} for t in big}
        redundant = 0
        if merge_redundant:
            down: dict[int, set[int]] = {t: set() for t in big}
            for t, ps in up.items():
                for p in ps:
                    down[p].add(t)
            changed = True
            while changed:
                changed = False
                for t in sorted(keep):
                    if any(genes_of[c] == genes_of[t] for c in down[t]):
                        for c in down[t]:
                            up[c].discard(t)
                            up[c] |= up[t]
                            for p in up[t]:
                                down[p].add(c)
                        for p in up[t]:
                            down[p].discard(t)
                        keep.discard(t)
                        del up[t], down[t]
                        redundant += 1
                        changed = True
        order = sorted(keep)
        position = {t: i for i, t in enumerate(order)}
        n = len(order)
        children: list[list[int]] = [[] for _ in range(n + 1)]
        for t in order:
            for p in sorted(up[t]):
                children[position[p]].append(position[t])
            if not up[t]:
                children[n].append(position[t])
        sets = [frozenset(genes_of[t]) for t in order]
        sets.append(frozenset().union(*sets) if sets else frozenset())
        direct = [
            sorted(sets[i] - frozenset().union(*(sets[c] for c in children[i])))
            for i in range(n + 1)
        ]
        height = [0] * (n + 1)
        for t in _topological(children):
            height[t] = 1 + max((height[c] for c in children[t]), default=-1)
        height[n] = max(height[:n], default=-1) + 1  # the root always runs last, alone
        strata = [[t for t in range(n + 1) if height[t] == h] for h in range(height[n] + 1)]
        counts.update(redundant_terms=redundant, kept_terms=n)
        return cls(
            terms=[cell.go_terms[t] for t in order] + ["root"],
            children=children,
            direct_genes=direct,
            sizes=[len(s) for s in sets],
            strata=[s for s in strata if s],
            gene_sets=sets,
            counts=counts,
        )


def _propagate(pairs: list[tuple[int, int]], parents: list[list[int]], n: int) -> list[set[int]]:
    """Genes annotated to each term or to any of its descendants (the true-path rule)."""
    genes_of: list[set[int]] = [set() for _ in range(n)]
    for gene, term in pairs:
        stack, seen = [term], set()
        while stack:
            t = stack.pop()
            if t in seen:
                continue
            seen.add(t)
            genes_of[t].add(gene)
            stack.extend(parents[t])
    return genes_of


def _topological(children: list[list[int]]) -> list[int]:
    """Children before parents (the GO DAG has no cycles; one would raise here)."""
    order, state = [], [0] * len(children)
    for start in range(len(children)):
        stack = [(start, False)]
        while stack:
            t, done = stack.pop()
            if done:
                state[t] = 2
                order.append(t)
                continue
            if state[t] == 2:
                continue
            if state[t] == 1:
                raise ValueError(f"the GO graph has a cycle through term {t}")
            state[t] = 1
            stack.append((t, True))
            stack.extend((c, False) for c in children[t] if state[c] != 2)
    return order
