"""What the bundled sample files hold, counted with the csv module, independently of the parsers."""

from __future__ import annotations

import csv
from pathlib import Path

from torchcell.paths import SAMPLE_DIR


def _rows(path: Path, header: bool) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:] if header else rows


def expected_counts(sample: Path = SAMPLE_DIR) -> dict[str, int]:
    features = _rows(sample / "SGD_features.tab", header=False)
    genes = [r for r in features if r[1] in ("ORF", "pseudogene") or r[1].endswith("_gene")]
    smf = _rows(sample / "strain_ids_and_single_mutant_fitness.tsv", header=True)
    single = sum((r[3] != "NaN") + (r[5] != "NaN") for r in smf)
    sga = _rows(sample / "SGA_sample_GENERATED.txt", header=True)
    double = sum(1 for r in sga if r[9] != "NaN" or r[5] != "NaN")
    temperatures = {"26" for r in smf if r[3] != "NaN"} | {"30" for r in smf if r[5] != "NaN"}
    temperatures |= {r[4][3:] for r in sga}
    return {
        "Gene": len(genes),
        "Experiment": single + double,
        "single": single,
        "double": double,
        "PERTURBS": single + 2 * double,
        "Environment": len(temperatures),
        "Dataset": 2,
    }
