"""Build the graph from the full real reference files and check its counts against the files.

    python benchmarks/real_graph.py --data ../shared/data [--work runs/real_graph] [--loader bulk]

Links the full files under their published names into ``<work>/sources`` (SGD features, GO 2012
OBO + GAF 2011, Yeast9 9.0.2 .mat, BIM, YEASTRACT, STRING v11 actions, the Schuldiner 2005
E-MAP with its derived allele table, the SGA_Public τ-SGA output and fitness tables, Costanzo
2016 single-mutant fitness, the Costanzo 2010 excerpt), starts a fresh local Neo4j in
``<work>/home``, runs the real command

    tc build-db --source-dir <work>/sources --loader bulk --quarantine --nodes 2

and prints its wall time, the peak RSS of the build's processes and of the Neo4j server, and a
table of graph counts beside counts computed here from the files with plain Python (genes the
genome does not know are bad rows: quarantined by the build, left out here). Exit 1 on a
mismatch. Developer machines only: it reads ../shared, which users do not have.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cobra
import openpyxl

ROOT = Path(__file__).resolve().parents[1]
TC = str(Path(sys.executable).with_name("tc"))
GENE_TYPES = ("ORF", "pseudogene", "blocked_reading_frame")
HO = "YDL227C"
LINKS = {
    "sgd/SGD_features.tab.gz": "SGD_features.tab.gz",
    "go/gene_ontology.1_2.2012-01-04.obo.gz": "gene_ontology.obo.gz",
    "go/gene_association.sgd.2011-12-24.gz": "gene_association.sgd.gz",
    "yeast-gem/yeast-GEM-9.0.2.mat": "yeast-GEM-9.0.2.mat",
    "interactions/scl_BIM_biogrid_intact_mint.txt.gz": "physical_BIM.txt.gz",
    "regulation/yeastract_RegulationTwoColumnTable_both.tsv.gz": "RegulationTwoColumnTable_both.tsv.gz",
    "regulation/yeastract_orftogene.txt": "orftogene.txt",
    "interactions/string_4932.protein.actions.v11.0.txt.gz": "4932.protein.actions.v11.0.txt.gz",
    "genetic/emap_schuldiner2005_secretory_Sscore_matrix.tsv.gz": "emap_schuldiner2005_Sscore_matrix.tsv.gz",
    "genetic/sga_public/scored_triple_test_small_trigenic.txt": "scored_triple_test_small_trigenic.txt",
    "genetic/sga_public/smf_t26_150803.txt": "smf_t26_150803.txt",
    "genetic/sga_public/smf_t30_150803.txt": "smf_t30_150803.txt",
    "genetic/sga_public/smf_DmQueryStd_MiniArray_180208.tsv": "smf_DmQueryStd_MiniArray_180208.tsv",
    "genetic/costanzo2016_strain_ids_and_single_mutant_fitness.xlsx": "strain_ids_and_single_mutant_fitness.xlsx",
}  # fmt: skip


def text(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def prepare(data: Path, sources: Path) -> None:
    sources.mkdir(parents=True, exist_ok=True)
    for src, name in LINKS.items():
        if not (sources / name).exists():
            (sources / name).symlink_to((data / src).resolve())
    essential = set(text(data / "genetic/essential_genes_SLGI_essglist_plus_OGEE.txt")[1:])
    genes = text(data / "genetic/emap_schuldiner2005_secretory_Sscore_matrix.tsv.gz")[0]
    genes = genes.split("\t")[1:]
    rows = ["gene\tmutation", *(f"{g}\t{'DAMP' if g in essential else 'DELETION'}" for g in genes)]
    (sources / "emap_schuldiner2005_alleles.tsv").write_text("\n".join(rows) + "\n")


def strain_genes(strain: str) -> list[str]:
    genes = strain.rsplit("_", 1)[0].split("+")
    return [g for g in genes if g != HO or len(genes) == 1]


def expected(sources: Path) -> dict[str, int]:
    """Counts from the files, independently of the parsers."""
    features = [r.split("\t") for r in text(sources / "SGD_features.tab.gz")]
    genes = {r[3] for r in features if r[1] in GENE_TYPES or r[1].endswith("_gene")}
    sgdid = {r[0]: r[3] for r in features if r[3] in genes}
    out = {"Gene": len(genes)}

    terms, obsolete, is_a, part_of = set(), set(), 0, 0
    for stanza in "\n".join(text(sources / "gene_ontology.obo.gz")).split("\n\n"):
        lines = stanza.strip().split("\n")
        if lines[0] != "[Term]":
            continue
        term = lines[1].removeprefix("id: ")
        if "is_obsolete: true" in lines:
            obsolete.add(term)
            continue
        terms.add(term)
        is_a += sum(ln.startswith("is_a:") for ln in lines)
        part_of += sum(ln.startswith("relationship: part_of") for ln in lines)
    out |= {"GOTerm": len(terms), "IS_A": is_a, "PART_OF": part_of}
    gaf = [
        r.split("\t") for r in text(sources / "gene_association.sgd.gz") if not r.startswith("!")
    ]
    out["ANNOTATED"] = len(
        {
            (sgdid[r[1]], r[4], r[6])
            for r in gaf
            if r[1] in sgdid and r[4] in terms and "NOT" not in r[3].split("|")
        }
    )

    model = cobra.io.load_matlab_model(str(sources / "yeast-GEM-9.0.2.mat"))
    out |= {
        "Reaction": len(model.reactions),
        "Metabolite": len(model.metabolites),
        "STOICH": sum(len(r.metabolites) for r in model.reactions),
        "CATALYZES": sum(sum(g.id in genes for g in r.genes) for r in model.reactions),
    }
    pairs = [r.split(" ")[:2] for r in text(sources / "physical_BIM.txt.gz")]
    out["PHYSICAL"] = len({frozenset(p) for p in pairs if set(p) <= genes})
    names = {}
    for row in text(sources / "orftogene.txt")[1:]:
        name, orf = row.split("\t")
        names[name.upper()] = orf
    regulation = [r.split(";") for r in text(sources / "RegulationTwoColumnTable_both.tsv.gz")]
    mapped = {tuple(names.get(x.upper()) for x in r) for r in regulation if len(r) == 2}
    out["REGULATES"] = len({p for p in mapped if p[0] in genes and p[1] in genes})
    string = [r.split("\t") for r in text(sources / "4932.protein.actions.v11.0.txt.gz")[1:]]
    out["STRING"] = len(
        {(frozenset((r[0][5:], r[1][5:])), r[2]) for r in string if {r[0][5:], r[1][5:]} <= genes}
    )

    experiments, perturbs = {}, 0
    matrix = [r.split("\t") for r in text(sources / "emap_schuldiner2005_Sscore_matrix.tsv.gz")]
    cells = {
        frozenset((row[0], col))
        for row in matrix[1:]
        for col, v in zip(matrix[0][1:], row[1:], strict=True)
        if v != "NA" and row[0] != col and {row[0], col} <= genes
    }
    experiments["emap_schuldiner2005"] = len(cells)
    perturbs += 2 * len(cells)
    screen = [r.split("\t") for r in text(sources / "scored_triple_test_small_trigenic.txt")[1:]]
    kept = [strain_genes(r[0]) + strain_genes(r[1]) for r in screen]
    kept = [g for g in kept if set(g) <= genes]
    experiments["sga_public_trigenic"] = len(kept)
    perturbs += sum(len(g) for g in kept)
    for name, dataset in (
        ("smf_t26_150803.txt", "sga_public_smf"),
        ("smf_t30_150803.txt", "sga_public_smf"),
        ("smf_DmQueryStd_MiniArray_180208.tsv", "sga_public_trigenic"),
    ):
        strains = {r.split("\t")[0] for r in text(sources / name) if r.split("\t")[1] != "NaN"}
        mutants = [strain_genes(s) for s in strains if s.rsplit("_", 1)[0] != HO]
        mutants = [g for g in mutants if set(g) <= genes]
        experiments[dataset] = experiments.get(dataset, 0) + len(mutants)
        perturbs += sum(len(g) for g in mutants)
    sheet = openpyxl.load_workbook(sources / "strain_ids_and_single_mutant_fitness.xlsx").active
    smf = [r for r in list(sheet.iter_rows(values_only=True))[1:] if r[1] in genes]
    singles = sum((r[3] not in (None, "NaN")) + (r[5] not in (None, "NaN")) for r in smf)
    experiments["costanzo2016_smf"] = singles
    perturbs += singles
    out["Experiment"] = sum(experiments.values())
    out["PERTURBS"] = perturbs
    out |= {f"Experiment in {k}": v for k, v in experiments.items()}
    return out


def graph(env: dict) -> dict[str, int]:
    query = (
        "import json; from torchcell.graphdb.connection import open_driver; "
        "from torchcell.graphdb.stats import graph_counts\n"
        "with open_driver() as d:\n"
        "    c = graph_counts(d, 'neo4j')\n"
        "    rows = d.execute_query('MATCH (e:Experiment)-[:IN_DATASET]->(s:Dataset) "
        "RETURN s.name AS name, count(e) AS n').records\n"
        "    print(json.dumps({**c.nodes, **c.relationships, "
        "**{'Experiment in ' + r['name']: r['n'] for r in rows}}))"
    )
    result = subprocess.run([sys.executable, "-c", query], env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout)


def compare(want: dict[str, int], have: dict[str, int]) -> int:
    """Print graph and file counts side by side; the number that differ."""
    width = max(map(len, want))
    print(f"\n{'count':<{width}}  {'graph':>9}  {'files':>9}")
    bad = 0
    for key in want:
        ok = have.get(key, 0) == want[key]
        bad += not ok
        print(
            f"{key:<{width}}  {have.get(key, 0):>9,}  {want[key]:>9,}  {'ok' if ok else 'DIFFERS'}"
        )
    return bad


def server_peak_rss(home: Path) -> int | None:
    state = json.loads((home / "neo4j.json").read_text())
    status = Path(f"/proc/{state['pid']}/status")
    if not status.exists():
        return None
    line = next(ln for ln in status.read_text().splitlines() if ln.startswith("VmHWM"))
    return int(line.split()[1]) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=ROOT / "runs/real_graph")
    parser.add_argument("--loader", default="bulk", choices=["bulk", "online"])
    parser.add_argument("--counts-only", action="store_true", help="compare the running graph")
    args = parser.parse_args()
    env = {**os.environ, "TC_HOME": str(args.work / "home"), "TC_EXECUTOR": "local"}
    env.pop("TC_NEO4J_URI", None)
    if args.counts_only:
        sys.exit(compare(expected(args.work / "sources"), graph(env)))
    shutil.rmtree(args.work / "home", ignore_errors=True)
    shutil.rmtree(args.work / "build", ignore_errors=True)
    prepare(args.data, args.work / "sources")
    subprocess.run([TC, "db", "start", "--heap", "2g"], env=env, check=True)
    command = [
        TC, "build-db", "--source-dir", str(args.work / "sources"), "--out",
        str(args.work / "build"), "--loader", args.loader, "--quarantine", "--nodes", "2",
    ]  # fmt: skip
    print("$", " ".join(command))
    start = time.perf_counter()
    build = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    print(build.stdout[-4000:], build.stderr[-2000:])
    if build.returncode:
        raise SystemExit(build.returncode)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    server = server_peak_rss(args.work / "home")
    bad = compare(expected(args.work / "sources"), graph(env))
    print(f"\nbuild wall time {wall:.1f} s; peak RSS of one build process {peak / 2**20:,.0f} MiB")
    if server:
        print(f"Neo4j server peak RSS {server / 2**20:,.0f} MiB")
    subprocess.run([TC, "db", "stop"], env=env, check=False)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
