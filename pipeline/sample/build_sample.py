"""Rebuild the bundled sample in pipeline/sample/ from the full public files.

Run by hand by a developer who has the full files (for example the ../shared/data copies):

    python pipeline/sample/build_sample.py --data ../shared/data --out pipeline/sample

Nothing in the package reads this script or the full files at run time. What it writes:

* ``SGD_features.tab``: every SGD_features row on chromosomes 1 and 2, plus the rows of the
  genes the other sample files name (YEASTRACT regulators, metabolic-model genes) (real, unchanged).
* ``gene_association.sgd`` + ``gene_ontology.obo``: SGD's GAF rows for those genes and the GO
  terms they use with all their ancestors (real, unchanged, 2011/2012 releases).
* ``physical_BIM.txt``: BioGRID ∪ IntAct ∪ MINT physical pairs among those genes (real).
* ``RegulationTwoColumnTable_both.tsv`` + ``orftogene.txt``: YEASTRACT pairs whose target is a
  chromosome 1/2 gene (real, unchanged).
* ``yeast-GEM_sample.xml``: Yeast9 (yeast-GEM 9.0.2) restricted to the reactions whose GPR
  rule names a chromosome 1/2 ORF, written as SBML by cobra (real values).
* ``Kuzmin2018_TableS1_GENERATED.txt``: trigenic screen rows in the Kuzmin 2018 Table S1 layout,
  GENERATED values (see ``generate_trigenic``).
* ``strain_ids_and_single_mutant_fitness.tsv``: the Costanzo 2016 single-mutant fitness rows
  whose gene is an ORF of that subset (real, unchanged).
* ``SGA_sample_GENERATED.txt``: double mutants in the exact Costanzo 2016 Data File S1 layout,
  with GENERATED values (see ``generate_sga``). The real pairwise tables are too large to ship.
* ``emap_schuldiner2005_Sscore_matrix.tsv``: the Schuldiner 2005 E-MAP restricted to
  ``--emap-genes`` genes drawn with a fixed seed (real S-scores, cells verbatim), and
  ``emap_schuldiner2005_alleles.tsv``, DERIVED: ``DAMP`` for the genes of the essential-gene
  list (the E-MAP used DAmP alleles for essential genes), ``DELETION`` for the others.
* ``scored_triple_test_small_trigenic.txt`` + ``smf_t26_150803.txt``, ``smf_t30_150803.txt``,
  ``smf_DmQueryStd_MiniArray_180208.tsv``: the SGA_Public τ-SGA test output for ``--sga-arrays``
  array strains drawn with a fixed seed (every query), and the fitness rows of the strains and
  genes it names (real, rows verbatim).
* ``sgadata_costanzo2009_rawdata_101120_sample.txt``: the real Costanzo 2010 raw excerpt in
  its published headerless layout (the header line the copy added is dropped).
* ``4932.protein.actions.v11.0_sample.txt``: STRING v11 action rows among the sample's genes
  (real, rows verbatim).
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


def chromosome_orfs(src: Path) -> set[str]:
    with gzip.open(src, "rt", encoding="utf-8") as fin:
        rows = (line.rstrip("\n").split("\t") for line in fin)
        return {c[3] for c in rows if c[8] in {"1", "2"} and c[1] == "ORF"}


def subset_features(src: Path, dst: Path, extra_genes: set[str]) -> dict[str, str]:
    """Copy chromosome 1 and 2 rows and the rows of ``extra_genes`` and their subfeatures.

    Returns {SGDID: systematic name} of the gene rows kept.
    """
    kept: dict[str, str] = {}
    with gzip.open(src, "rt", encoding="utf-8") as fin, dst.open("w", encoding="utf-8") as fout:
        for line in fin:
            cols = line.rstrip("\n").split("\t")
            if cols[8] in {"1", "2"} or cols[3] in extra_genes or cols[6] in extra_genes:
                fout.write(line)
                if cols[1] in ("ORF", "pseudogene", "blocked_reading_frame") or cols[1].endswith(
                    "_gene"
                ):
                    kept[cols[0]] = cols[3]
    missing = extra_genes - set(kept.values())
    if missing:
        raise SystemExit(f"genes not in SGD_features: {sorted(missing)}")
    return kept


def subset_gaf(src: Path, dst: Path, sgdids: set[str]) -> set[str]:
    """Copy the comment header and the annotations of ``sgdids``; return the GO ids used."""
    terms: set[str] = set()
    with gzip.open(src, "rt", encoding="utf-8") as fin, dst.open("w", encoding="utf-8") as fout:
        for line in fin:
            if line.startswith("!"):
                fout.write(line)
                continue
            cols = line.split("\t")
            if cols[1] in sgdids:
                fout.write(line)
                terms.add(cols[4])
    return terms


FREE_TEXT_TAGS = ("def:", "synonym:", "xref:", "comment:", "subset:")


def subset_obo(src: Path, dst: Path, used: set[str]) -> int:
    """Copy the header, the [Term] stanzas of ``used`` and all their ancestors, and [Typedef]s.

    To keep the sample small, the free-text tags of a term (def, synonym, xref, comment,
    subset) are left out; every other line is copied as it is.
    """
    with gzip.open(src, "rt", encoding="utf-8") as fin:
        text = fin.read()
    header, *stanzas = text.split("\n\n[")
    parents: dict[str, set[str]] = {}
    by_id: dict[str, str] = {}
    for stanza in stanzas:
        lines = stanza.split("\n")
        if lines[0] != "Term]":
            continue
        term = lines[1].removeprefix("id: ")
        by_id[term] = stanza
        parents[term] = {
            ln.split()[1] if ln.startswith("is_a:") else ln.split()[2]
            for ln in lines
            if ln.startswith("is_a:") or ln.startswith("relationship: part_of")
        }
    keep, todo = set(), list(used & set(by_id))
    while todo:
        term = todo.pop()
        if term not in keep:
            keep.add(term)
            todo.extend(parents.get(term, ()))
    with dst.open("w", encoding="utf-8") as fout:
        fout.write(header)
        for stanza in stanzas:
            lines = stanza.split("\n")
            if lines[0] != "Term]":
                fout.write("\n\n[" + stanza)
            elif lines[1].removeprefix("id: ") in keep:
                kept_lines = [ln for ln in lines if not ln.startswith(FREE_TEXT_TAGS)]
                fout.write("\n\n[" + "\n".join(kept_lines))
        if not text.endswith("\n"):
            fout.write("\n")
    return len(keep)


def subset_pairs(src: Path, dst: Path, genes: set[str], sep: str = " ") -> int:
    n = 0
    with gzip.open(src, "rt", encoding="utf-8") as fin, dst.open("w", encoding="utf-8") as fout:
        for line in fin:
            a, b = line.split(sep)[:2]
            if a in genes and b in genes:
                fout.write(line)
                n += 1
    return n


def subset_regulation(data: Path, out: Path, targets: set[str]) -> set[str]:
    """YEASTRACT pairs whose target maps to ``targets``; return the regulators' ORFs."""
    name_to_orf = {}
    with (data / "regulation/yeastract_orftogene.txt").open(encoding="utf-8") as fh:
        header = fh.readline()
        rows = [line.rstrip("\n").split("\t") for line in fh]
    name_to_orf = {name: orf for name, orf in rows}
    used_names, regulators = set(), set()
    src = data / "regulation/yeastract_RegulationTwoColumnTable_both.tsv.gz"
    with (
        gzip.open(src, "rt", encoding="utf-8") as fin,
        (out / "RegulationTwoColumnTable_both.tsv").open("w", encoding="utf-8") as fout,
    ):
        for line in fin:
            tf, target = line.rstrip("\n").split(";")
            if name_to_orf.get(target) in targets and tf in name_to_orf:
                fout.write(line)
                used_names |= {tf, target}
                regulators.add(name_to_orf[tf])
    with (out / "orftogene.txt").open("w", encoding="utf-8") as fout:
        fout.write(header)
        for name, orf in rows:
            if name in used_names:
                fout.write(f"{name}\t{orf}\n")
    return regulators


def gem_subset(src: Path, orfs: set[str]):
    """Yeast9 restricted to the reactions whose rule names a gene of ``orfs`` (cobra model).

    Metabolites and genes that no kept reaction uses are removed with them; every value of a
    kept reaction (id, name, rule, bounds, stoichiometry) is the published one.
    """
    import logging

    import cobra

    logging.getLogger("cobra").setLevel(logging.ERROR)
    model = cobra.io.load_matlab_model(str(src))
    drop = [r for r in model.reactions if not any(g.id in orfs for g in r.genes)]
    model.remove_reactions(drop, remove_orphans=True)
    model.id = "yeastGEM_sample"
    return model


def write_gem(model, dst: Path) -> None:
    """Write the subset as SBML (level 3, fbc), the layout of yeast-GEM's model/yeast-GEM.xml."""
    import cobra

    cobra.io.write_sbml_model(model, str(dst))


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


KUZMIN_HEADER = (
    "Query strain ID\tQuery allele name\tArray strain ID\tArray allele name\tCombined mutant type\t"
    "Raw genetic interaction score (epsilon)\tAdjusted genetic interaction score (epsilon or tau)\t"
    "P-value\tQuery single/double mutant fitness\tArray single mutant fitness\t"
    "Double/triple mutant fitness\tDouble/triple mutant fitness standard deviation"
)


def generate_trigenic(smf_rows: list[list[str]], dst: Path, n_queries: int, n_arrays: int) -> int:
    """Write GENERATED Kuzmin 2018 Table S1 rows: double-mutant queries (``A+B_tm``) × arrays.

    Each query pair also appears as its single-gene controls (``A+YDL227C``, hoΔ), so the file
    holds digenic and trigenic rows as the real table does. Fitness: f_ijk = f_ij · f_k + τ with
    f_ij = f_i · f_j + ε; ε, τ from the same mixture as ``draw_epsilon``; values from the real
    30 °C single-mutant fitnesses.
    """
    rng = random.Random(SEED + 1)
    deletions = [
        c for c in smf_rows if c[0].split("_", 1)[1].startswith(("dma", "sn")) and c[5] != "NaN"
    ]
    one_strain_per_gene = list({c[1]: c for c in deletions}.values())
    pool = rng.sample(one_strain_per_gene, 2 * n_queries + n_arrays)
    pairs = [(pool[2 * i], pool[2 * i + 1]) for i in range(n_queries)]
    arrays = pool[2 * n_queries :]
    written = 0
    with dst.open("w", encoding="utf-8") as fout:
        fout.write(KUZMIN_HEADER + "\n")
        for n, (a, b) in enumerate(pairs):
            f_a, f_b = float(a[5]), float(b[5])
            f_ab = max(0.0, f_a * f_b + draw_epsilon(rng))
            queries = [
                (f"{a[1]}+YDL227C_tm{3000 + 2 * n}", f"{a[2]}Δ+hoΔ", f_a, "digenic"),
                (f"{b[1]}+YDL227C_tm{3001 + 2 * n}", f"{b[2]}Δ+hoΔ", f_b, "digenic"),
                (f"{a[1]}+{b[1]}_tm{1000 + n}", f"{a[2]}Δ+{b[2]}Δ", f_ab, "trigenic"),
            ]
            for query_id, query_allele, f_q, kind in queries:
                for c in arrays:
                    f_c = float(c[5])
                    score = draw_epsilon(rng)
                    fit = round(max(0.0, f_q * f_c + score), 4)
                    raw = round(fit - f_q * f_c, 4)
                    sd = round(abs(rng.gauss(0.03, 0.015)) + 0.005, 4)
                    p = two_sided_p(raw / (sd / 2.0))
                    fout.write(
                        "\t".join(
                            [
                                query_id, query_allele, c[0], f"{c[2]}Δ", kind, f"{raw:.4f}",
                                f"{raw:.4f}", f"{p:.3e}", f"{f_q:.4f}", f"{f_c:.4f}", f"{fit:.4f}", f"{sd:.4f}",
                            ]
                        )
                        + "\n"
                    )  # fmt: skip
                    written += 1
    return written


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


def subset_emap(data: Path, out: Path, n: int) -> set[str]:
    """The E-MAP matrix restricted to ``n`` genes (seeded draw, matrix order kept), and the
    derived allele table; returns the genes."""
    with gzip.open(data / "genetic/emap_schuldiner2005_secretory_Sscore_matrix.tsv.gz", "rt") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    header = rows[0][1:]
    chosen = set(random.Random(SEED).sample(header, n))
    keep = [i for i, g in enumerate(header) if g in chosen]
    with (out / "emap_schuldiner2005_Sscore_matrix.tsv").open("w") as fout:
        for row in [rows[0]] + [r for r in rows[1:] if r[0] in chosen]:
            fout.write("\t".join([row[0], *(row[1 + i] for i in keep)]) + "\n")
    essential_list = data / "genetic/essential_genes_SLGI_essglist_plus_OGEE.txt"
    essential = {ln.strip() for ln in essential_list.read_text().splitlines()[1:]}
    with (out / "emap_schuldiner2005_alleles.tsv").open("w") as fout:
        fout.write("gene\tmutation\n")
        for gene in (header[i] for i in keep):
            fout.write(f"{gene}\t{'DAMP' if gene in essential else 'DELETION'}\n")
    return chosen


def strain_gene(strain: str) -> list[str]:
    genes = strain.rsplit("_", 1)[0].split("+")
    return [g for g in genes if g != "YDL227C"]


def subset_sga_public(data: Path, out: Path, n_arrays: int) -> set[str]:
    """The τ-SGA test output for ``n_arrays`` array strains, and the fitness rows of its strains
    (the screen's own table) and of its genes (the 26/30 °C tables); returns the genes."""
    src = data / "genetic/sga_public"
    lines = (src / "scored_triple_test_small_trigenic.txt").read_text().splitlines()
    arrays = sorted({ln.split("\t")[1] for ln in lines[1:]})
    chosen = set(random.Random(SEED).sample(arrays, n_arrays))
    screen = [ln for ln in lines[1:] if ln.split("\t")[1] in chosen]
    (out / "scored_triple_test_small_trigenic.txt").write_text(
        "\n".join([lines[0], *screen]) + "\n"
    )
    strains = chosen | {ln.split("\t")[0] for ln in screen}
    genes = {g for strain in strains for g in strain_gene(strain)}
    used = [
        ln
        for ln in (src / "smf_DmQueryStd_MiniArray_180208.tsv").read_text().splitlines()
        if ln.split("\t")[0] in strains or set(strain_gene(ln.split("\t")[0])) <= genes
    ]
    (out / "smf_DmQueryStd_MiniArray_180208.tsv").write_text("\n".join(used) + "\n")
    for name in ("smf_t26_150803.txt", "smf_t30_150803.txt"):
        rows = [
            ln
            for ln in (src / name).read_text().splitlines()
            if set(strain_gene(ln.split("\t")[0])) <= genes
        ]
        (out / name).write_text("\n".join(rows) + "\n")
    return genes


def genome_names(src: Path) -> set[str]:
    with gzip.open(src, "rt", encoding="utf-8") as fin:
        return {line.split("\t")[3] for line in fin}


def copy_costanzo2010(data: Path, out: Path) -> set[str]:
    """The real excerpt without the header its copy added, and without the rows that name an
    ORF today's genome no longer has (merged or retired since 2010); returns the genes."""
    lines = (data / "genetic/costanzo2010_rawdata_sample_2queries.tsv").read_text().splitlines()
    known = genome_names(data / "sgd/SGD_features.tab.gz")
    body = [ln for ln in lines[1:] if {ln.split("\t")[i].split("_")[0] for i in (0, 2)} <= known]
    print(
        f"costanzo2010: {len(lines) - 1 - len(body)} rows name ORFs not in SGD_features, left out"
    )
    (out / "sgadata_costanzo2009_rawdata_101120_sample.txt").write_text("\n".join(body) + "\n")
    return {ln.split("\t")[i].split("_")[0] for ln in body for i in (0, 2)}


def subset_string(data: Path, out: Path, genes: set[str]) -> int:
    src = data / "interactions/string_4932.protein.actions.v11.0.txt.gz"
    n = 0
    with (
        gzip.open(src, "rt") as fin,
        (out / "4932.protein.actions.v11.0_sample.txt").open("w") as fout,
    ):
        fout.write(fin.readline())
        for line in fin:
            a, b = line.split("\t")[:2]
            if a[5:] in genes and b[5:] in genes:
                fout.write(line)
                n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with the full files")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--arrays", type=int, default=110)
    parser.add_argument("--emap-genes", type=int, default=150)
    parser.add_argument("--sga-arrays", type=int, default=250)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    orfs = chromosome_orfs(args.data / "sgd/SGD_features.tab.gz")
    regulators = subset_regulation(args.data, args.out, orfs)
    gem = gem_subset(args.data / "yeast-gem/yeast-GEM-9.0.2.mat", orfs)
    screens = subset_emap(args.data, args.out, args.emap_genes)
    screens |= subset_sga_public(args.data, args.out, args.sga_arrays)
    screens |= copy_costanzo2010(args.data, args.out)
    kept = subset_features(
        args.data / "sgd/SGD_features.tab.gz",
        args.out / "SGD_features.tab",
        regulators | {g.id for g in gem.genes} | screens,
    )
    genes = set(kept.values())
    write_gem(gem, args.out / "yeast-GEM_sample.xml")
    used_terms = subset_gaf(
        args.data / "go/gene_association.sgd.2011-12-24.gz",
        args.out / "gene_association.sgd",
        set(kept),
    )
    n_terms = subset_obo(
        args.data / "go/gene_ontology.1_2.2012-01-04.obo.gz",
        args.out / "gene_ontology.obo",
        used_terms,
    )
    n_physical = subset_pairs(
        args.data / "interactions/scl_BIM_biogrid_intact_mint.txt.gz",
        args.out / "physical_BIM.txt",
        genes,
    )
    n_string = subset_string(args.data, args.out, genes)
    print(
        f"{len(genes)} genes, {n_terms} GO terms, {n_physical} physical pairs, "
        f"{len(regulators)} regulators, {n_string} STRING rows"
    )
    smf = subset_smf(
        args.data / "genetic/costanzo2016_strain_ids_and_single_mutant_fitness.tsv.gz",
        args.out / "strain_ids_and_single_mutant_fitness.tsv",
        orfs,
    )
    n = generate_sga(smf, args.out / "SGA_sample_GENERATED.txt", args.queries, args.arrays)
    n3 = generate_trigenic(smf, args.out / "Kuzmin2018_TableS1_GENERATED.txt", 6, 40)
    print(
        f"{len(smf)} single-mutant strains, {n} generated double mutants, {n3} generated trigenic-screen rows"
    )


if __name__ == "__main__":
    main()
