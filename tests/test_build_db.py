"""`tc build-db` against the real embedded Neo4j: counts, idempotence, both loaders, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import cobra
import pytest

from torchcell.graphdb.stats import graph_counts
from torchcell.paths import SAMPLE_DIR

from conftest import run_tc
from sample_counts import expected_counts

NODE_LABELS = ("Gene", "Experiment", "Environment", "Dataset", "GOTerm")
SERVER_COMMANDS = [
    ["build-db"],
    ["materialize-dataset", "pipeline/datasets/costanzo2016_sample.yaml"],
    ["db", "status"],
    ["db", "stats"],
]
"""The commands that talk to Neo4j (each must fail in one line when it cannot)."""
REL_TYPES = ("PERTURBS", "IS_A", "PART_OF", "ANNOTATED", "PHYSICAL", "REGULATES", "STRING")


def build(tmp_path, *args: str):
    return run_tc(
        "build-db", "--source-dir", str(SAMPLE_DIR), "--out", str(tmp_path / "build"), *args
    )


def assert_counts_match_files(driver):
    counts = graph_counts(driver, "neo4j")
    want = expected_counts()
    for label in NODE_LABELS:
        assert counts.nodes[label] == want[label], label
    for rel in REL_TYPES:
        assert counts.relationships[rel] == want[rel], rel
    assert counts.relationships["IN_DATASET"] == counts.relationships["UNDER"] == want["Experiment"]
    model = cobra.io.read_sbml_model(str(SAMPLE_DIR / "yeast-GEM_sample.xml"))
    assert counts.nodes["Reaction"] == len(model.reactions)
    assert counts.nodes["Metabolite"] == len(model.metabolites)
    assert counts.relationships["STOICH"] == sum(len(r.metabolites) for r in model.reactions)
    assert counts.relationships["CATALYZES"] == sum(len(r.genes) for r in model.reactions)
    return counts


def build_ids(driver) -> list[str]:
    return [r["id"] for r in driver.execute_query("MATCH (b:Build) RETURN b.id AS id").records]


def test_online_build_matches_the_files_and_a_rerun_changes_nothing(empty_graph, tmp_path):
    first = build(tmp_path, "--nodes", "3")
    assert "built graph" in first.stdout
    counts = assert_counts_match_files(empty_graph)
    ids = build_ids(empty_graph)
    assert len(ids) == 1

    build(tmp_path, "--nodes", "3")
    assert graph_counts(empty_graph, "neo4j") == counts
    assert build_ids(empty_graph) == ids


def test_bulk_import_gives_the_same_graph_as_online(empty_graph, tmp_path):
    build(tmp_path, "--nodes", "2")
    online = graph_counts(empty_graph, "neo4j")
    result = run_tc(
        "build-db", "--source-dir", str(SAMPLE_DIR), "--out", str(tmp_path / "bulk"),
        "--nodes", "4", "--loader", "bulk",
    )  # fmt: skip
    assert "built graph" in result.stdout
    from torchcell.graphdb.connection import open_driver, resolve_settings

    with open_driver(resolve_settings()) as driver:  # the server was restarted by the import
        assert graph_counts(driver, "neo4j") == online
        assert_counts_match_files(driver)
    # each shard writes its experiments, and the links that start at them, in bucket order
    from torchcell.graphdb.csv_shards import read_part

    experiment_parts = sorted((tmp_path / "bulk").rglob("Experiment/part-*.csv"))
    assert experiment_parts
    for path in experiment_parts:
        experiments = read_part(path, "Experiment")
        assert experiments["bucket"].is_sorted()
        rank = dict(zip(experiments["id"], experiments["bucket"], strict=True))
        for name in ("PERTURBS", "IN_DATASET"):
            for link in path.parent.parent.glob(f"{name}/part-*.csv"):
                starts = read_part(link, name)["start"]
                buckets = [rank[s] for s in starts if s in rank]
                assert buckets == sorted(buckets), link


def test_rules_coefficients_and_go_direction_in_the_graph(empty_graph, tmp_path):
    build(tmp_path)
    model = cobra.io.read_sbml_model(str(SAMPLE_DIR / "yeast-GEM_sample.xml"))
    rules = dict(
        (r["id"], r["gpr"])
        for r in empty_graph.execute_query(
            "MATCH (r:Reaction) RETURN r.id AS id, r.gpr AS gpr"
        ).records
    )
    assert rules == {r.id: (r.gene_reaction_rule or None) for r in model.reactions}
    coefficient = empty_graph.execute_query(
        "MATCH (:Reaction {id: 'r_0193'})-[s:STOICH]->(m:Metabolite) RETURN m.id AS m, s.coefficient AS c"
    ).records  # Yeast9 alpha,alpha-trehalase: H2O + trehalose -> 2 D-glucose (vacuole)
    assert {r["m"]: r["c"] for r in coefficient} == {"s_0810": -1.0, "s_1522": -1.0, "s_0566": 2.0}
    parent = empty_graph.execute_query(
        "MATCH (:GOTerm {id: 'GO:0000001'})-[:IS_A]->(p:GOTerm) RETURN p.id AS id ORDER BY id"
    ).records
    assert [r["id"] for r in parent] == ["GO:0048308", "GO:0048311"]
    isozymes = empty_graph.execute_query(
        "MATCH (g:Gene)-[:CATALYZES]->(:Reaction {id: 'r_0193'}) RETURN g.id AS id ORDER BY id"
    ).records
    assert [r["id"] for r in isozymes] == ["YBR001C", "YPR026W"]  # NTH2 or ATH1


def test_labels_round_trip(empty_graph, tmp_path):
    build(tmp_path)
    record = empty_graph.execute_query(
        "MATCH (e:Experiment)-[p:PERTURBS]->(g:Gene) WHERE p.strain = 'YBR259W_dma429' "
        "MATCH (e)-[:PERTURBS]->(q:Gene {id: 'YBL039C'}) MATCH (e)-[:UNDER]->(v) "
        "RETURN e.fitness AS f, e.fitness_std AS sd, e.gene_interaction AS eps, "
        "e.gene_interaction_p_value AS p, v.temperature AS t, g.id AS gene"
    ).records
    assert len(record) == 1
    r = record[0]
    assert (r["f"], r["sd"], r["eps"], r["p"], r["t"], r["gene"]) == (
        0.9522,
        0.0518,
        -0.0434,
        0.0938,
        30.0,
        "YBR259W",
    )


def test_only_selects_sources(empty_graph, tmp_path):
    build(tmp_path, "--only", "go")
    counts = graph_counts(empty_graph, "neo4j")
    assert set(counts.nodes) == {"Gene", "GOTerm", "Build"}
    assert set(counts.relationships) == {"IS_A", "PART_OF", "ANNOTATED"}
    stats = run_tc("db", "stats")
    assert "GOTerm" in stats.stdout and f"{expected_counts()['GOTerm']:,}" in stats.stdout


def test_kuzmin2020_table_loads_into_its_own_dataset(empty_graph, sample_copy, tmp_path):
    """Kuzmin 2020's Table S1 has Kuzmin 2018's layout; the file name decides the dataset."""
    (sample_copy / "Kuzmin2018_TableS1_GENERATED.txt").rename(
        sample_copy / "Kuzmin2020_TableS1_GENERATED.txt"
    )
    run_tc(
        "build-db", "--source-dir", str(sample_copy), "--out", str(tmp_path / "b"),
        "--only", "kuzmin2020",
    )  # fmt: skip
    rows = empty_graph.execute_query(
        "MATCH (e:Experiment)-[:IN_DATASET]->(d:Dataset) RETURN d.name AS name, count(e) AS n"
    ).records
    want = expected_counts()
    assert {r["name"]: r["n"] for r in rows} == {"kuzmin2020_trigenic": want["kuzmin"]}


def test_biogrid_links_keep_their_evidence_in_the_graph(empty_graph, sample_copy, tmp_path):
    fixture = Path(__file__).parent / "fixtures"
    for path in fixture.glob("BIOGRID-*.tab3.txt"):
        shutil.copy(path, sample_copy / path.name)
    run_tc(
        "build-db", "--source-dir", str(sample_copy), "--out", str(tmp_path / "b"),
        "--only", "biogrid", "--loader", "bulk",
    )  # fmt: skip
    rows = empty_graph.execute_query(
        "MATCH (a:Gene)-[p:PHYSICAL {source: 'biogrid'}]->(b:Gene) "
        "RETURN a.id AS a, b.id AS b, p.score AS score, p.systems AS systems ORDER BY score DESC, a"
    ).records
    assert len(rows) == 6 and all(r["a"] < r["b"] for r in rows)
    assert rows[0]["score"] == 2.0 and rows[0]["systems"] == ["Affinity Capture-MS", "Two-hybrid"]


def test_malformed_row_exits_nonzero_naming_file_line_field(empty_graph, sample_copy, tmp_path):
    sga = sample_copy / "SGA_sample_GENERATED.txt"
    lines = sga.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace("0.9522", "0.95x2")
    sga.write_text("\n".join(lines), encoding="utf-8")
    result = run_tc(
        "build-db",
        "--source-dir",
        str(sample_copy),
        "--out",
        str(tmp_path / "b"),
        check=False,
    )
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert (
        f"{sga}, line 3, field 'Double mutant fitness': '0.95x2' is not a finite number" in message
    )
    assert "Traceback" not in result.stderr
    assert graph_counts(empty_graph, "neo4j").nodes == {}, "nothing is loaded from a bad build"


@pytest.mark.parametrize("args", SERVER_COMMANDS)
def test_dead_neo4j_says_how_to_start_one(neo4j, tmp_path, args):
    dead = {"TC_NEO4J_URI": "bolt://127.0.0.1:1", "TC_HOME": str(tmp_path)}
    if args[0] == "materialize-dataset":
        args = [*args, "--out", str(tmp_path / "ds")]
    result = run_tc(*args, env=dead, check=False)
    assert result.returncode == 1
    assert "Cannot reach Neo4j at bolt://127.0.0.1:1" in result.stderr
    assert "tc db start" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", SERVER_COMMANDS)
def test_wrong_password_is_one_line_for_every_command(neo4j, tmp_path, args):
    """(As another user name: Neo4j locks a user out for a while after failed logins.)"""
    if args[0] == "materialize-dataset":
        args = [*args, "--out", str(tmp_path / "ds")]
    if args[0] == "build-db":
        args = [*args, "--out", str(tmp_path / "b")]
    result = run_tc(
        *args, env={"TC_NEO4J_USER": "intruder", "TC_NEO4J_PASSWORD": "wrong"}, check=False
    )
    assert result.returncode == 1
    assert "authentication failed" in result.stderr and "Traceback" not in result.stderr
