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
    return {
        "Gene": len(genes),
        "Experiment": single + double + digenic + trigenic,
        "single": single,
        "double": double,
        "trigenic_rows": len(trigenic_rows),
        "digenic": digenic,
        "trigenic": trigenic,
        "PERTURBS": single + 2 * double + 2 * digenic + 3 * trigenic,
        "Environment": len(temperatures),
        "Dataset": 3,
        "GOTerm": terms,
        "IS_A": is_a,
        "PART_OF": part_of,
        "ANNOTATED": len(annotated),
        "PHYSICAL": len(physical),
        "REGULATES": len(regulation),
    }
