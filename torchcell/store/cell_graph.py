"""Exporting the wildtype cell graph from Neo4j to ``cell_graph.pt`` (tensors, no pickle of objects).

Written once beside a dataset's shards so training needs no database. The file is a plain
dict of lists of strings and integer/float tensors, loadable with ``torch.load(weights_only=True)``;
``torchcell.cell.graph.CellGraph`` reads it. Indices point into the sorted id lists.
"""

from __future__ import annotations

from pathlib import Path

import torch
from neo4j import Driver

from torchcell.errors import TorchCellError
from torchcell.schema.gpr import to_dnf

FORMAT = 3
"""2: ``go_annotations`` holds one column per (gene, term, evidence code), ``go_evidence`` the
codes; 3: ``go_references`` the references of each (sorted)."""


def _rows(driver: Driver, database: str, query: str) -> list[list]:
    return [list(r.values()) for r in driver.execute_query(query, database_=database).records]


def _index_pairs(pairs: list[list], left: dict[str, int], right: dict[str, int]) -> torch.Tensor:
    if not pairs:
        return torch.empty(2, 0, dtype=torch.long)
    return torch.tensor(
        [[left[a] for a, _ in pairs], [right[b] for _, b in pairs]], dtype=torch.long
    )


def export_cell_graph(driver: Driver, database: str, path: Path) -> dict:
    genes = [r[0] for r in _rows(driver, database, "MATCH (g:Gene) RETURN g.id ORDER BY g.id")]
    if not genes:
        raise TorchCellError("the graph has no genes: run `tc build-db` first")
    gene_index = {g: i for i, g in enumerate(genes)}
    reactions = _rows(driver, database, "MATCH (r:Reaction) RETURN r.id, r.gpr ORDER BY r.id")
    reaction_index = {r: i for i, (r, _) in enumerate(reactions)}
    metabolites = [
        r[0] for r in _rows(driver, database, "MATCH (m:Metabolite) RETURN m.id ORDER BY m.id")
    ]
    metabolite_index = {m: i for i, m in enumerate(metabolites)}
    terms = [r[0] for r in _rows(driver, database, "MATCH (t:GOTerm) RETURN t.id ORDER BY t.id")]
    term_index = {t: i for i, t in enumerate(terms)}

    physical = _rows(
        driver,
        database,
        "MATCH (a:Gene)-[:PHYSICAL]->(b:Gene) RETURN DISTINCT a.id, b.id ORDER BY a.id, b.id",
    )
    regulatory = _rows(
        driver,
        database,
        "MATCH (a:Gene)-[:REGULATES]->(b:Gene) RETURN DISTINCT a.id, b.id ORDER BY a.id, b.id",
    )
    string = _rows(
        driver,
        database,
        "MATCH (a:Gene)-[s:STRING]->(b:Gene) RETURN s.mode, a.id, b.id ORDER BY s.mode, a.id, b.id",
    )
    stoich = _rows(
        driver, database,
        "MATCH (r:Reaction)-[s:STOICH]->(m:Metabolite) RETURN r.id, m.id, s.coefficient ORDER BY r.id, m.id",
    )  # fmt: skip
    go_edges = _rows(
        driver, database,
        "MATCH (c:GOTerm)-[:IS_A|PART_OF]->(p:GOTerm) RETURN DISTINCT c.id, p.id ORDER BY c.id, p.id",
    )  # fmt: skip
    annotations = _rows(
        driver,
        database,
        "MATCH (g:Gene)-[a:ANNOTATED]->(t:GOTerm) "
        "RETURN g.id AS gene, t.id AS term, coalesce(a.evidence, '') AS evidence, "
        "collect(a.references) AS references ORDER BY gene, term, evidence",
    )

    clause_reaction, gpr_clause, gpr_gene = [], [], []
    for reaction, rule in reactions:
        try:
            clauses = to_dnf(rule)
        except ValueError as err:  # a graph loaded by other means than tc build-db
            raise TorchCellError(f"reaction {reaction}'s rule cannot be used: {err}") from None
        for clause in clauses:
            for gene in sorted(clause):
                if gene not in gene_index:
                    raise TorchCellError(
                        f"reaction {reaction}'s rule names {gene}, which is not a gene of the graph"
                    )
                gpr_clause.append(len(clause_reaction))
                gpr_gene.append(gene_index[gene])
            clause_reaction.append(reaction_index[reaction])

    snapshot = {
        "format": FORMAT,
        "genes": genes,
        "reactions": [r for r, _ in reactions],
        "gpr_rules": [rule or "" for _, rule in reactions],
        "metabolites": metabolites,
        "go_terms": terms,
        "physical": _index_pairs(physical, gene_index, gene_index),
        "regulatory": _index_pairs(regulatory, gene_index, gene_index),
        "stoich_index": _index_pairs(
            [[r, m] for r, m, _ in stoich], reaction_index, metabolite_index
        ),
        "stoich_coefficient": torch.tensor([c for *_, c in stoich], dtype=torch.float32),
        "gpr_clause_reaction": torch.tensor(clause_reaction, dtype=torch.long),
        "gpr_clause": torch.tensor(gpr_clause, dtype=torch.long),
        "gpr_gene": torch.tensor(gpr_gene, dtype=torch.long),
        "go_edges": _index_pairs(go_edges, term_index, term_index),
        "go_annotations": _index_pairs(
            [[g, t] for g, t, *_ in annotations], gene_index, term_index
        ),
        "go_evidence": [e for _, _, e, _ in annotations],
        "go_references": [
            sorted({r for refs in found for r in refs or []}) for *_, found in annotations
        ],
        "string": {
            mode: _index_pairs([[a, b] for m, a, b in string if m == mode], gene_index, gene_index)
            for mode in sorted({m for m, _, _ in string})
        },
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(snapshot, tmp)
    tmp.replace(path)
    return snapshot
