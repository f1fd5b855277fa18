"""Parsers on the real-format sample: counts, values, and errors that name file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from torchcell.errors import SourceError
from torchcell.graphdb.build import build_shard, plan_build
from torchcell.paths import SAMPLE_DIR
from torchcell.schema import Environment, Experiment, Perturbation
from torchcell.sources import (
    biogrid,
    costanzo2016,
    gene_ontology,
    interactions,
    kuzmin,
    sgd,
    yeast_gem,
)
from torchcell.sources.experiments import sort_across
from torchcell.sources.table import Rejects

from sample_counts import expected_counts

SGA = SAMPLE_DIR / "SGA_sample_GENERATED.txt"
SMF = SAMPLE_DIR / "strain_ids_and_single_mutant_fitness.tsv"
FEATURES = SAMPLE_DIR / "SGD_features.tab"


def test_genes_match_an_independent_count():
    genes = sgd.parse_genes(FEATURES)
    assert genes.height == expected_counts()["Gene"]
    pau8 = genes.filter(genes["id"] == "YAL068C").row(0, named=True)
    # SGD writes Crick-strand coordinates stop-first (2169, 1807); we keep start < end.
    assert (pau8["name"], pau8["chromosome"], pau8["start"], pau8["end"], pau8["strand"]) == (
        "PAU8",
        "1",
        1807,
        2169,
        "C",
    )


def test_single_mutants_one_experiment_per_measured_temperature():
    tables = costanzo2016.parse_single_mutants(SMF)
    assert tables.experiments.height == expected_counts()["single"]
    vps8 = tables.perturbations.filter(tables.perturbations["strain"] == "YAL002W_dma23")
    assert set(vps8["kind"]) == {"deletion"} and set(vps8["allele"]) == {"vps8"}
    exp = tables.experiments.filter(tables.experiments["id"].is_in(vps8["experiment_id"].implode()))
    assert sorted(exp["temperature"]) == [26.0, 30.0]
    assert set(exp["fitness"]) == {0.764}


def test_double_mutants_keep_labels_and_both_genes():
    tables = costanzo2016.parse_double_mutants(SGA)
    assert tables.experiments.height == expected_counts()["double"]
    assert tables.perturbations.height == 2 * tables.experiments.height
    first = tables.experiments.row(0, named=True)
    assert first["_line"] == 2 and first["temperature"] == 30.0
    assert first["gene_interaction"] == 0.0303 and first["fitness"] == 0.99
    kinds = set(tables.perturbations["kind"])
    assert kinds == {"deletion", "temperature_sensitive"}


def test_trigenic_rows_split_control_queries_from_triples():
    tables = kuzmin.parse_trigenic(SAMPLE_DIR / "Kuzmin2018_TableS1_GENERATED.txt")
    counts = expected_counts()
    screen = tables.experiments.filter(pl.col("gene_interaction").is_not_null())
    assert screen.height == counts["trigenic_rows"]
    per_experiment = (
        tables.perturbations.group_by("experiment_id").len()["len"].value_counts().sort("len")
    )
    assert dict(per_experiment.iter_rows()) == {
        1: counts["kuzmin_singles"],
        2: counts["digenic"] + counts["kuzmin_query_doubles"],
        3: counts["trigenic"],
    }
    assert "YDL227C" not in set(tables.perturbations["gene"])  # hoΔ is the neutral control


def test_trigenic_strain_fitness_is_stored_once_per_strain_in_every_shard_layout():
    """The query/array fitness columns become one experiment per strain, whatever the shards."""
    path = SAMPLE_DIR / "Kuzmin2018_TableS1_GENERATED.txt"
    whole = kuzmin.parse_trigenic(path)
    shards = [kuzmin.parse_trigenic(path, rows=(i, 3)) for i in range(3)]
    ids = [i for t in shards for i in t.experiments["id"].to_list()]
    assert sorted(ids) == sorted(whole.experiments["id"].to_list()), "lost or repeated"
    singles = whole.experiments.filter(pl.col("gene_interaction").is_null())
    assert singles["fitness"].is_not_null().all()


def test_gene_ontology_edges_point_child_to_parent():
    ontology = gene_ontology.parse_ontology(SAMPLE_DIR / "gene_ontology.obo")
    counts = expected_counts()
    assert ontology.nodes["GOTerm"].height == counts["GOTerm"]
    assert ontology.relationships["IS_A"].height == counts["IS_A"]
    assert ontology.relationships["PART_OF"].height == counts["PART_OF"]
    is_a = ontology.relationships["IS_A"]
    # GO:0000001 mitochondrion inheritance is_a GO:0048308 organelle inheritance.
    assert is_a.filter((is_a["start"] == "GO:0000001") & (is_a["end"] == "GO:0048308")).height == 1
    genes = sgd.parse_genes(FEATURES)
    annotated = gene_ontology.parse_annotations(
        SAMPLE_DIR / "gene_association.sgd", genes, ontology
    )
    assert annotated.relationships["ANNOTATED"].height == counts["ANNOTATED"]
    assert annotated.notes["negated GO annotations (NOT) left out"] > 0


def test_metabolic_model_keeps_rules_and_signed_coefficients():
    import cobra

    genes = sgd.parse_genes(FEATURES)
    part = yeast_gem.parse_model(SAMPLE_DIR / "yeast-GEM_sample.xml", genes)
    model = cobra.io.read_sbml_model(str(SAMPLE_DIR / "yeast-GEM_sample.xml"))
    rules = dict(part.nodes["Reaction"].select("id", "gpr").iter_rows())
    assert rules == {r.id: (r.gene_reaction_rule or None) for r in model.reactions}
    stoich = {(s, e): c for s, e, c in part.relationships["STOICH"].iter_rows()}
    assert stoich == {(r.id, m.id): c for r in model.reactions for m, c in r.metabolites.items()}
    assert stoich[("r_0193", "s_1522")] == -1 and stoich[("r_0193", "s_0566")] == 2  # trehalase
    assert part.nodes["Metabolite"].height == len(model.metabolites)


def test_networks_match_independent_counts():
    genes = sgd.parse_genes(FEATURES)
    counts = expected_counts()
    physical = interactions.parse_physical(SAMPLE_DIR / "physical_BIM.txt", "BIM", genes)
    assert physical.relationships["PHYSICAL"].height == counts["PHYSICAL"]
    regulation = interactions.parse_regulation(
        SAMPLE_DIR / "RegulationTwoColumnTable_both.tsv",
        SAMPLE_DIR / "orftogene.txt",
        "yeastract",
        genes,
    )
    assert regulation.relationships["REGULATES"].height == counts["REGULATES"]


def test_parser_ids_equal_schema_ids():
    tables = costanzo2016.parse_double_mutants(SGA)
    row = tables.experiments.row(0, named=True)
    perts = tables.perturbations.filter(tables.perturbations["experiment_id"] == row["id"])
    record = Experiment(
        dataset=row["dataset"],
        environment=Environment(media=row["media"], temperature=row["temperature"]),
        perturbations=[
            Perturbation(**p) for p in perts.select("gene", "kind", "allele", "strain").to_dicts()
        ],
        fitness=row["fitness"],
        gene_interaction=row["gene_interaction"],
    )
    assert record.id == row["id"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.text(max_size=4)), min_size=3, max_size=3),
        min_size=1,
        max_size=20,
    )
)
def test_sort_across_sorts_each_row_like_python(rows):
    """The column-wise sort behind experiment ids equals ``sorted`` per row, nulls last."""
    table = pl.DataFrame(rows, schema=["a", "b", "c"], orient="row")
    got = sort_across(table, ["a", "b", "c"]).rows()
    assert got == [
        tuple(sorted(v for v in row if v is not None)) + (None,) * row.count(None) for row in rows
    ]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["a\tb", "", "ü\t1", "x\r", "#c", "\t", "long" * 40]), max_size=40),
    st.integers(1, 7),
    st.booleans(),
)
def test_shards_read_by_byte_range_hold_each_line_once_with_its_number(
    tmp_path_factory, lines, count, final_newline
):
    """A plain-text screen is read shard by shard from its byte ranges (never whole): together
    the shards hold every line of the file once, in order, numbered as in the file."""
    from torchcell.sources.table import read_lines, shard_lines

    path = tmp_path_factory.mktemp("lines") / "screen.txt"
    path.write_bytes(("\n".join(["h1\th2", *lines]) + ("\n" if final_newline else "")).encode())
    whole = read_lines(path)
    parts = [shard_lines(path, i, count) for i in range(count)]
    assert {header for _, header in parts} == {"h1\th2"}
    assert pl.concat([frame for frame, _ in parts]).rows() == whole.rows()


def corrupt(src: Path, dst: Path, line: int, old: str, new: str) -> Path:
    lines = src.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], (old, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    dst.write_text("\n".join(lines), encoding="utf-8")
    return dst


@pytest.mark.parametrize(
    ("line", "old", "new", "field", "problem"),
    [
        (3, "0.9522", "0.95x2", "Double mutant fitness", "'0.95x2' is not a finite number"),
        (5, "YBL039C_sn4425", "YBL039C-sn4425", "Query Strain ID", "is not a strain id"),
        (4, "TSA26", "TSA28", "Arraytype/Temp", "is not an array type"),
        (6, "\t0.0", "\tinf", None, None),
    ],
)
def test_malformed_sga_row_is_named(tmp_path, line, old, new, field, problem):
    bad = corrupt(SGA, tmp_path / SGA.name, line, old, new)
    with pytest.raises(SourceError) as err:
        costanzo2016.parse_double_mutants(bad)
    assert err.value.path == bad and err.value.line == line
    if field is not None:
        assert err.value.field == field and problem in str(err.value)
    assert f"line {line}" in str(err.value)


def test_row_with_a_missing_field(tmp_path):
    lines = SGA.read_text(encoding="utf-8").split("\n")
    lines[6] = lines[6].rsplit("\t", 1)[0]
    bad = tmp_path / SGA.name
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError, match=r"line 7: expected 11 fields"):
        costanzo2016.parse_double_mutants(bad)


def test_changed_header_is_rejected(tmp_path):
    bad = corrupt(SGA, tmp_path / SGA.name, 1, "P-value", "Pvalue")
    with pytest.raises(SourceError, match="line 1: unexpected header"):
        costanzo2016.parse_double_mutants(bad)


def test_a_repeated_experiment_with_other_values_is_an_error(tmp_path):
    lines = SGA.read_text(encoding="utf-8").rstrip("\n").split("\n")
    fields = lines[10].split("\t")
    fields[9] = "0.1234"  # the same strains and temperature, another double-mutant fitness
    bad = tmp_path / SGA.name
    bad.write_text("\n".join([*lines, "\t".join(fields)]) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        costanzo2016.parse_double_mutants(bad)
    assert (
        err.value.line == len(lines) + 1
        and "same genotype" in str(err.value)
        and "line 11" in str(err.value)
    )


def test_a_row_repeated_verbatim_is_loaded_once_and_counted(tmp_path):
    """Real files repeat rows (smf_t26_150803.txt lists YDL227C_sn851 twice): once, counted."""
    lines = SGA.read_text(encoding="utf-8").rstrip("\n").split("\n")
    copy = tmp_path / SGA.name
    copy.write_text("\n".join([*lines, lines[10]]) + "\n", encoding="utf-8")
    tables = costanzo2016.parse_double_mutants(copy)
    assert tables.experiments.height == expected_counts()["double"]
    assert tables.notes[f"{SGA.name}: identical repeated rows dropped"] == 1


def test_missing_fitness_value_in_smf(tmp_path):
    bad = corrupt(SMF, tmp_path / SMF.name, 5, "\t0.764\t", "\tabc\t")
    with pytest.raises(SourceError) as err:
        costanzo2016.parse_single_mutants(bad)
    assert err.value.line == 5 and err.value.field == "Single mutant fitness (26°)"


def test_bad_cell_in_an_xlsx_names_the_sheet_row(tmp_path):
    """A workbook is read like its TSV export: errors name the spreadsheet row and column."""
    book = openpyxl.Workbook()
    for line in SMF.read_text(encoding="utf-8").splitlines()[:8]:
        book.active.append([float(v) if v[:1].isdigit() else v for v in line.split("\t")])
    book.active["D5"] = "abc"  # row 5, column 4: Single mutant fitness (26°)
    book.save(tmp_path / "strain_ids_and_single_mutant_fitness.xlsx")
    with pytest.raises(SourceError) as err:
        costanzo2016.parse_single_mutants(tmp_path / "strain_ids_and_single_mutant_fitness.xlsx")
    assert err.value.line == 5 and err.value.field == "Single mutant fitness (26°)"
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(SourceError, match="not a readable .xlsx"):
        costanzo2016.parse_single_mutants(tmp_path / "broken.xlsx")


def test_unknown_gene_is_reported_with_its_line(tmp_path):
    sample = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, sample, ignore=shutil.ignore_patterns("*.py", "*.md"))
    corrupt(SGA, sample / SGA.name, 9, "YBL039C_sn4425", "YZZ999W_sn4425")
    plan_build(sample).write(tmp_path / "build")
    with pytest.raises(SourceError) as err:
        build_shard(tmp_path / "build", 0, 1)
    assert err.value.line == 9 and err.value.field == "Query Strain ID"
    assert "'YZZ999W' is not in the genome" in str(err.value)


def test_quarantine_keeps_going_and_records_every_bad_row(tmp_path):
    sample = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, sample, ignore=shutil.ignore_patterns("*.py", "*.md"))
    corrupt(SGA, sample / SGA.name, 3, "0.9522", "0.95x2")
    corrupt(sample / SGA.name, sample / SGA.name, 9, "YBL039C_sn4425", "YZZ999W_sn4425")
    plan_build(sample).write(tmp_path / "build")
    done = build_shard(tmp_path / "build", 0, 1, quarantine=True)
    assert done["rejects"] == 2
    assert done["rows"]["Experiment"] == expected_counts()["Experiment"] - 2
    rejected = (
        (tmp_path / "build" / "shard-00000-of-00001" / "quarantine.tsv").read_text().splitlines()
    )
    assert len(rejected) == 3  # header + 2
    assert "\t3\tDouble mutant fitness\t'0.95x2' is not a finite number" in rejected[1]
    assert "\t9\tQuery Strain ID\tgene 'YZZ999W' is not in the genome" in rejected[2]


BIOGRID = (
    Path(__file__).parent
    / "fixtures/BIOGRID-ORGANISM-Saccharomyces_cerevisiae_S288c-CONSTRUCTED.tab3.txt"
)


def test_biogrid_tab3_pairs_evidence_and_left_out_rows():
    genes = sgd.parse_genes(FEATURES)
    part = biogrid.parse_biogrid(BIOGRID, genes)
    links = part.relationships["PHYSICAL"]
    rows = [line.rstrip("\n").split("\t") for line in BIOGRID.open()][1:]
    physical = [r for r in rows if r[12] == "physical" and r[15] == r[16] == "559292"]
    pairs = {tuple(sorted(r[5:7])) for r in physical}
    assert set(zip(links["start"], links["end"], strict=True)) == pairs
    assert links.height == 6 and links["score"].sum() == len(physical) == 8
    two = links.filter(pl.col("score") == 2)
    assert two["systems"].to_list() == [["Affinity Capture-MS", "Two-hybrid"]] * 2
    assert part.notes["biogrid: genetic or non-S288C rows left out"] == 2


def test_biogrid_names_a_missing_column_and_an_unknown_gene(tmp_path):
    genes = sgd.parse_genes(FEATURES)
    text = BIOGRID.read_text()
    broken = tmp_path / "missing.tab3.txt"
    broken.write_text(text.replace("Experimental System Type", "System Type", 1))
    with pytest.raises(SourceError, match="Experimental System Type"):
        biogrid.parse_biogrid(broken, genes)
    unknown = tmp_path / "unknown.tab3.txt"
    lines = text.splitlines()
    first = lines[1].split("\t")
    lines[1] = "\t".join([*first[:5], "YXX999W", *first[6:]])
    unknown.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError, match=r"line 2.*YXX999W"):
        biogrid.parse_biogrid(unknown, genes)


def test_a_rule_that_would_expand_exponentially_fails_fast():
    """An AND of 16 two-way ORs is 65,536 clauses (it took 383 s to expand before the guard)."""
    import time

    from torchcell.schema.gpr import MAX_CLAUSES, RuleTooLarge, to_dnf

    rule = " and ".join(f"(G{i}a or G{i}b)" for i in range(16))
    start = time.perf_counter()
    with pytest.raises(RuleTooLarge, match=f"more than {MAX_CLAUSES:,}"):
        to_dnf(rule)
    assert time.perf_counter() - start < 5
    assert len(to_dnf(" and ".join(f"(G{i}a or G{i}b)" for i in range(12)))) == 4096


def test_rules_naming_unknown_genes_are_rewritten_to_what_the_graph_holds():
    from torchcell.schema.gpr import without_genes

    assert without_genes("(A and X) or (B and C)", {"X"}) == "(A) or (B and C)"
    assert without_genes("A or X", {"X"}) is None, "X always present: never lost"
    genes = sgd.parse_genes(SAMPLE_DIR / "SGD_features.tab")
    some = yeast_gem.parse_model(SAMPLE_DIR / "yeast-GEM_sample.xml", genes)
    gene = some.relationships["CATALYZES"]["start"][0]
    fewer = genes.filter(pl.col("id") != gene)
    rejects = Rejects(quarantine=True)
    part = yeast_gem.parse_model(SAMPLE_DIR / "yeast-GEM_sample.xml", fewer, rejects)
    assert all(gene not in (rule or "") for rule in part.nodes["Reaction"]["gpr"].to_list())
    assert part.notes[
        "GPR rules naming a gene the genome lacks: that gene taken as always present"
    ] == len(rejects.rows)
