"""What the bundled sample files hold, counted with the csv module and plain string handling,
independently of the parsers under test."""

from __future__ import annotations

import csv
from pathlib import Path

from torchcell.paths import SAMPLE_DIR

GENE_TYPES = ("ORF", "pseudogene", "blocked_reading_frame")


def _rows(path: Path, header: bool, delimiter: str = "\t") -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [
            r
            for r in csv.reader(fh, delimiter=delimiter, quoting=csv.QUOTE_NONE)
            if r and not r[0].startswith("!")
        ]
    return rows[1:] if header else rows


def _obo_terms(path: Path) -> tuple[int, int, int]:
    terms = is_a = part_of = 0
    for stanza in path.read_text(encoding="utf-8").split("\n\n"):
        lines = stanza.strip().split("\n")
        if lines[0] != "[Term]" or "is_obsolete: true" in lines:
            continue
        terms += 1
        is_a += sum(ln.startswith("is_a:") for ln in lines)
        part_of += sum(ln.startswith("relationship: part_of") for ln in lines)
    return terms, is_a, part_of


def _emap_pairs(path: Path) -> int:
    rows = _rows(path, header=False)
    columns = rows[0][1:]
    cells = {}
    for row in rows[1:]:
        for column, value in zip(columns, row[1:], strict=True):
            if value != "NA" and row[0] != column:
                cells.setdefault(frozenset((row[0], column)), []).append(float(value))
    return len(cells)


def _strains(rows: list[list[str]]) -> tuple[int, int]:
    """(single-gene, two-gene) experiments of a strain/fitness/SD table: distinct measured
    strains (a verbatim repeated row counts once); hoΔ (YDL227C) is the control: a strain of
    it alone is not a mutant, and in a double it leaves a single."""
    seen = {r[0] for r in rows if r[1] != "NaN" and r[0].rsplit("_", 1)[0] != "YDL227C"}
    genes = [
        [g for g in s.rsplit("_", 1)[0].split("+") if g != "YDL227C" or "+" not in s] for s in seen
    ]
    return sum(len(g) == 1 for g in genes), sum(len(g) == 2 for g in genes)


def sga_pipeline_counts(sample: Path = SAMPLE_DIR) -> dict[str, int]:
    screen = _rows(sample / "scored_triple_test_small_trigenic.txt", header=True)
    digenic = sum(1 for r in screen if "+YDL227C_" in r[0])
    singles, doubles = 0, 0
    for name in ("smf_t26_150803.txt", "smf_t30_150803.txt", "smf_DmQueryStd_MiniArray_180208.tsv"):
        one, two = _strains(_rows(sample / name, header=False))
        singles, doubles = singles + one, doubles + two
    return {
        "digenic": digenic,
        "trigenic": len(screen) - digenic,
        "singles": singles,
        "doubles": doubles,
        "experiments": len(screen) + singles + doubles,
        "perturbs": 2 * digenic + 3 * (len(screen) - digenic) + singles + 2 * doubles,
    }


def costanzo2010_counts(sample: Path = SAMPLE_DIR) -> dict[str, int]:
    rows = _rows(sample / "sgadata_costanzo2009_rawdata_101120_sample.txt", header=False)
    scored = sum(1 for r in rows if r[4] != "NaN" or r[11] != "NaN")
    strains = {r[0] for r in rows if r[7] != "NaN"} | {r[2] for r in rows if r[9] != "NaN"}
    return {"pairs": scored, "singles": len(strains), "experiments": scored + len(strains)}


def string_links(sample: Path = SAMPLE_DIR) -> int:
    rows = _rows(sample / "4932.protein.actions.v11.0_sample.txt", header=True)
    return len({(frozenset((r[0], r[1])), r[2]) for r in rows})


def expected_counts(sample: Path = SAMPLE_DIR) -> dict[str, int]:
    features = _rows(sample / "SGD_features.tab", header=False)
    genes = [r for r in features if r[1] in GENE_TYPES or r[1].endswith("_gene")]
    smf = _rows(sample / "strain_ids_and_single_mutant_fitness.tsv", header=True)
    single = sum((r[3] != "NaN") + (r[5] != "NaN") for r in smf)
    sga = _rows(sample / "SGA_sample_GENERATED.txt", header=True)
    double = sum(1 for r in sga if r[9] != "NaN" or r[5] != "NaN")
    trigenic_rows = _rows(sample / "Kuzmin2018_TableS1_GENERATED.txt", header=True)
    digenic = sum(1 for r in trigenic_rows if "+YDL227C_" in r[0])
    trigenic = len(trigenic_rows) - digenic
    query_fitness = {r[0]: r[8] for r in reversed(trigenic_rows) if r[8] != "NaN"}
    array_fitness = {r[2]: r[9] for r in reversed(trigenic_rows) if r[9] != "NaN"}
    query_singles = sum(1 for q in query_fitness if "+YDL227C_" in q)
    query_doubles = len(query_fitness) - query_singles
    temperatures = {"26" for r in smf if r[3] != "NaN"} | {"30" for r in smf if r[5] != "NaN"}
    temperatures |= {r[4][3:] for r in sga} | {"30"}
    terms, is_a, part_of = _obo_terms(sample / "gene_ontology.obo")
    gaf = _rows(sample / "gene_association.sgd", header=False)
    annotated = {(r[1], r[4], r[6]) for r in gaf if "NOT" not in r[3].split("|")}
    physical = {
        tuple(sorted(r[:2]))
        for r in _rows(sample / "physical_BIM.txt", header=False, delimiter=" ")
    }
    regulation = {
        tuple(r)
        for r in _rows(sample / "RegulationTwoColumnTable_both.tsv", header=False, delimiter=";")
    }
    emap = _emap_pairs(sample / "emap_schuldiner2005_Sscore_matrix.tsv")
    sga_public = sga_pipeline_counts(sample)
    c2010 = costanzo2010_counts(sample)
    kuzmin = single + double + digenic + trigenic + len(query_fitness) + len(array_fitness)
    return {
        "Gene": len(genes),
        "Experiment": kuzmin + emap + sga_public["experiments"] + c2010["experiments"],
        "emap": emap,
        "single": single,
        "double": double,
        "trigenic_rows": len(trigenic_rows),
        "digenic": digenic,
        "trigenic": trigenic,
        "kuzmin_singles": query_singles + len(array_fitness),
        "kuzmin": digenic + trigenic + len(query_fitness) + len(array_fitness),
        "kuzmin_query_doubles": query_doubles,
        "PERTURBS": single
        + 2 * double
        + 2 * digenic
        + 3 * trigenic
        + query_singles
        + 2 * query_doubles
        + len(array_fitness)
        + 2 * emap
        + sga_public["perturbs"]
        + 2 * c2010["pairs"]
        + c2010["singles"],
        "Environment": len(temperatures),
        "Dataset": 7,
        "STRING": string_links(sample),
        "GOTerm": terms,
        "IS_A": is_a,
        "PART_OF": part_of,
        "ANNOTATED": len(annotated),
        "PHYSICAL": len(physical),
        "REGULATES": len(regulation),
    }
