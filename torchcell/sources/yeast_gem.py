"""Yeast9 genome-scale metabolic model (yeast-GEM), read with cobra from SBML (or .mat/.json).

Gives ``Reaction`` nodes (name, GPR rule as text, bounds, reversibility), ``Metabolite``
nodes (name, compartment, formula), signed ``STOICH{coefficient}`` reaction → metabolite links
(negative: consumed, positive: produced) and ``CATALYZES`` gene → reaction links for every gene
named in a reaction's rule. The rule text is cobra's ``gene_reaction_rule``: AND joins the
subunits of a complex, OR joins isozymes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from torchcell.errors import SourceError
from torchcell.schema.gpr import RuleTooLarge, to_dnf, without_genes
from torchcell.sources.catalog import GITHUB, Source
from torchcell.sources.parts import GraphPart
from torchcell.sources.table import STRICT, Rejects


def load_model(path: Path):
    """The cobra model in ``path`` (.xml/.sbml, .mat or .json); SourceError when unreadable."""
    import cobra

    path = Path(path)
    if not path.exists():
        raise SourceError(path, None, None, "file not found")
    readers = {
        ".xml": cobra.io.read_sbml_model,
        ".sbml": cobra.io.read_sbml_model,
        ".mat": cobra.io.load_matlab_model,
        ".json": cobra.io.load_json_model,
    }
    suffix = path.suffix if path.suffix != ".gz" else Path(path.stem).suffix
    reader = readers.get(suffix)
    if reader is None:
        raise SourceError(
            path, None, None, f"unknown model format {suffix!r} (use .xml, .mat or .json)"
        )
    logging.getLogger("cobra").setLevel(logging.CRITICAL)  # e.g. "no objective": irrelevant here
    try:
        return reader(str(path))
    except Exception as err:  # noqa: BLE001 - cobra raises many types for a bad file
        raise SourceError(path, None, None, f"cobra cannot read the model: {err}") from None


def parse_model(path: Path, genes: pl.DataFrame, rejects: Rejects = STRICT) -> GraphPart:
    """Reactions, metabolites, stoichiometry and gene links of the model in ``path``.

    A rule that names a gene the genome does not know is a bad record (its ``CATALYZES``
    link). With quarantine, the build then decides once what the rule means: the unknown gene
    is taken as always present (nothing can delete it), and the graph stores the rule rewritten
    without it, so that every rule it holds names only genes it holds; such rules are counted.
    A rule that expands to more than ``MAX_CLAUSES`` AND-clauses is a bad record too.
    """
    model = load_model(path)
    reactions = pl.DataFrame(
        [
            {
                "id": r.id,
                "name": r.name or None,
                "gpr": r.gene_reaction_rule or None,
                "lower_bound": float(r.lower_bound),
                "upper_bound": float(r.upper_bound),
                "reversible": bool(r.reversibility),
            }
            for r in model.reactions
        ],
        schema={"id": pl.String, "name": pl.String, "gpr": pl.String, "lower_bound": pl.Float64,
                "upper_bound": pl.Float64, "reversible": pl.Boolean},
    )  # fmt: skip
    metabolites = pl.DataFrame(
        [
            {
                "id": m.id,
                "name": m.name or None,
                "compartment": m.compartment,
                "formula": m.formula or None,
            }
            for m in model.metabolites
        ],
        schema={"id": pl.String, "name": pl.String, "compartment": pl.String, "formula": pl.String},
    )
    stoich = pl.DataFrame(
        [
            {"start": r.id, "end": m.id, "coefficient": float(c)}
            for r in model.reactions
            for m, c in r.metabolites.items()
        ],
        schema={"start": pl.String, "end": pl.String, "coefficient": pl.Float64},
    )
    catalyzes = pl.DataFrame(
        [
            {"start": g.id, "end": r.id}
            for r in model.reactions
            for g in sorted(r.genes, key=lambda g: g.id)
        ],
        schema={"start": pl.String, "end": pl.String},
    )
    catalyzes = rejects.drop(
        catalyzes,
        ~catalyzes["start"].is_in(genes["id"].implode()),
        path,
        "gene_reaction_rule",
        "gene {value} is not in the genome",
        values="start",
    )
    reactions, rewritten = _graph_rules(reactions, set(genes["id"]), path, rejects)
    kept = reactions["id"].implode()
    return GraphPart(
        nodes={"Reaction": reactions, "Metabolite": metabolites},
        relationships={
            "STOICH": stoich.filter(pl.col("start").is_in(kept)),
            "CATALYZES": catalyzes.filter(pl.col("end").is_in(kept)),
        },
        notes={
            "GPR rules naming a gene the genome lacks: that gene taken as always present": rewritten
        },
    )


def _graph_rules(
    reactions: pl.DataFrame, known: set[str], path: Path, rejects: Rejects
) -> tuple[pl.DataFrame, int]:
    """Rules the graph can evaluate: bounded in size, naming only genes of the genome.

    A reaction whose rule is too large is a bad record (dropped with its links when
    quarantining); returns the reactions and how many rules were rewritten."""
    rules, problems, rewritten = [], [], 0
    for reaction, rule in reactions.select("id", "gpr").iter_rows():
        problem = None
        try:
            absent = {g for clause in to_dnf(rule) for g in clause} - known
        except RuleTooLarge as err:
            absent, problem = set(), f"reaction {reaction}: {err}"
        if absent:
            rewritten += 1
            rule = without_genes(rule, absent)
        rules.append(rule)
        problems.append(problem)
    reactions = reactions.with_columns(
        pl.Series("gpr", rules, dtype=pl.String), pl.Series("_problem", problems, dtype=pl.String)
    )
    reactions = rejects.drop(
        reactions, reactions["_problem"].is_not_null(), path, "gene_reaction_rule", "{number}",
        values="_problem",
    )  # fmt: skip
    return reactions.drop("_problem"), rewritten


SOURCE = Source(
    "gem", ("yeast-GEM*.xml|yeast-GEM*.mat",),
    (f"{GITHUB}/SysBioChalmers/yeast-GEM/a2a672e367ae22eaf9a44228d6ad69eb4ce5f6b6/model/yeast-GEM.mat",),
    "yeast-GEM 9.0.2 (Yeast9)", "Zhang et al., Mol Syst Biol 2024", "CC BY 4.0",
    ("a4949fd2bf13ce13a357fbde56c389fa6b53492065352ac701848dc5ea714927",),
    home="https://github.com/SysBioChalmers/yeast-GEM/releases/tag/v9.0.2",
    load=lambda files: [parse_model(files.first(0), files.genes, files.rejects)],
)  # fmt: skip
