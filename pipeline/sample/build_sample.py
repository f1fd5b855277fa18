"""Rebuild the bundled sample in pipeline/sample/ from the full public files.

Run by hand by a developer who has the full files (for example the ../shared/data copies):

    python pipeline/sample/build_sample.py --data ../shared/data --out pipeline/sample

Nothing in the package reads this script or the full files at run time. What it writes:

* ``SGD_features.tab``: every SGD_features row on chromosomes 1 and 2 (real, unchanged).
* ``strain_ids_and_single_mutant_fitness.tsv``: the Costanzo 2016 single-mutant fitness rows
  whose gene is an ORF of that subset (real, unchanged).
* ``SGA_sample_GENERATED.txt``: double mutants in the exact Costanzo 2016 Data File S1 layout,
  with GENERATED values (see ``generate_sga``). The real pairwise tables are too large to ship.
"""

from __future__ import annotations

import argparse
import gzip
import math
import random
from pathlib import Path

SEED = 20161

SGA_HEADER = (
    "Query Strain ID\tQuery allele name\tArray Strain ID\tArray allele name\tArraytype/Temp\t"
    "Genetic interaction score (ε)\tP-value\tQuery single mutant fitness (SMF)\tArray SMF\t"
    "Double mutant fitness\tDouble mutant fitness standard deviation"
)


def subset_features(src: Path, dst: Path) -> set[str]:
    """Copy chromosome 1 and 2 rows; return the ORF systematic names kept."""
    orfs: set[str] = set()
    with gzip.open(src, "rt", encoding="utf-8") as fin, dst.open("w", encoding="utf-8") as fout:
        for line in fin:
            cols = line.rstrip("\n").split("\t")
            if cols[8] in {"1", "2"}:
                fout.write(line)
                if cols[1] == "ORF":
                    orfs.add(cols[3])
    return orfs


def subset_smf(src: Path, dst: Path, orfs: set[str]) -> list[list[str]]:
    """Copy the header and the strains whose gene is in ``orfs``; return those rows."""
    rows = []
    with gzip.open(src, "rt", encoding="utf-8") as fin, dst.open("w", encoding="utf-8") as fout:
        fout.write(fin.readline())
        for line in fin:
            cols = line.rstrip("\n").split("\t")
            if cols[1] in orfs:
                fout.write(line)
                rows.append(cols)
    return rows


def draw_epsilon(rng: random.Random) -> float:
    """ε for one pair: 88 % N(0, 0.03) noise, 9 % negative N(-0.15, 0.06), 3 % positive N(0.10, 0.04).

    The proportions follow the published observation that negative interactions outnumber
    positive ones about 3:1 at the intermediate cutoff (Costanzo et al. 2016).
    """
    u = rng.random()
    if u < 0.88:
        return rng.gauss(0.0, 0.03)
    if u < 0.97:
        return rng.gauss(-0.15, 0.06)
    return rng.gauss(0.10, 0.04)


def two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def allele_name(tag: str, allele: str) -> str:
    """Deletion alleles are written ``vps8Δ`` in the SGA files; others keep their name."""
    return f"{allele}Δ" if tag in {"dma", "sn"} else allele


def generate_sga(smf_rows: list[list[str]], dst: Path, n_queries: int, n_arrays: int) -> int:
    """Write generated double mutants: f_ij = f_i · f_j + ε, ε from ``draw_epsilon``.

    Queries are deletion (``sn``) and ts (``tsq``) strains, arrays deletion (``dma``) and ts
    (``tsa``) strains, all with a real 30 °C (DMA/TSA30) or 26 °C (TSA26) single-mutant fitness.
    DMF is rounded to 4 decimals and ε recomputed from it, so ε = DMF − qSMF·aSMF holds as in the
    published files. The DMF standard deviation is |N(0.03, 0.015)| + 0.005 (4 replicate
    colonies); the P-value is the two-sided normal p of ε against that SD / √4.
    """
    rng = random.Random(SEED)

    def usable(tags: set[str]) -> list[list[str]]:
        out = []
        for cols in smf_rows:
            tag = cols[0].split("_", 1)[1].rstrip("0123456789")
            if tag in tags and cols[5] != "NaN" and cols[3] != "NaN":
                out.append(cols)
        return out

    queries = rng.sample(usable({"sn", "tsq"}), n_queries)
    arrays = rng.sample(usable({"dma", "tsa"}), n_arrays)
    written = 0
    with dst.open("w", encoding="utf-8") as fout:
        fout.write(SGA_HEADER + "\n")
        for q in queries:
            q_tag = q[0].split("_", 1)[1].rstrip("0123456789")
            for a in arrays:
                if a[1] == q[1]:
                    continue
                a_tag = a[0].split("_", 1)[1].rstrip("0123456789")
                temp = 26 if a_tag == "tsa" and rng.random() < 0.5 else 30
                arraytype = ("TSA" if a_tag == "tsa" else "DMA") + str(temp)
                col = 3 if temp == 26 else 5
                f_q, f_a = float(q[col]), float(a[col])
                dmf = round(max(0.0, f_q * f_a + draw_epsilon(rng)), 4)
                eps = round(dmf - f_q * f_a, 4)
                sd = round(abs(rng.gauss(0.03, 0.015)) + 0.005, 4)
                p = two_sided_p(eps / (sd / 2.0))
                fout.write(
                    "\t".join(
                        [
                            q[0],
                            allele_name(q_tag, q[2]),
                            a[0],
                            allele_name(a_tag, a[2]),
                            arraytype,
                            f"{eps:.4f}",
                            f"{p:.3e}",
                            f"{f_q:.4f}",
                            f"{f_a:.4f}",
                            f"{dmf:.4f}",
                            f"{sd:.4f}",
                        ]
                    )
                    + "\n"
                )
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with the full files")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--arrays", type=int, default=110)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    orfs = subset_features(args.data / "sgd/SGD_features.tab.gz", args.out / "SGD_features.tab")
    smf = subset_smf(
        args.data / "genetic/costanzo2016_strain_ids_and_single_mutant_fitness.tsv.gz",
        args.out / "strain_ids_and_single_mutant_fitness.tsv",
        orfs,
    )
    n = generate_sga(smf, args.out / "SGA_sample_GENERATED.txt", args.queries, args.arrays)
    print(f"{len(orfs)} ORFs, {len(smf)} single-mutant strains, {n} generated double mutants")


if __name__ == "__main__":
    main()
