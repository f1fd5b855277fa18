"""`tc build-db` against the real embedded Neo4j: counts, idempotence, errors."""

from __future__ import annotations

from conftest import run_tc
from sample_counts import expected_counts

from torchcell.graphdb.stats import graph_counts
from torchcell.paths import SAMPLE_DIR


def test_build_db_counts_equal_the_files_and_a_rerun_changes_nothing(empty_graph):
    first = run_tc("build-db", "--source-dir", str(SAMPLE_DIR))
    assert "built graph" in first.stdout and "experiments" in first.stdout
    counts = graph_counts(empty_graph, "neo4j")
    want = expected_counts()
    for label in ("Gene", "Experiment", "Environment", "Dataset"):
        assert counts.nodes[label] == want[label], label
    assert counts.relationships["PERTURBS"] == want["PERTURBS"]
    assert counts.relationships["IN_DATASET"] == want["Experiment"]
    assert counts.relationships["UNDER"] == want["Experiment"]
    build_ids = [
        r["id"] for r in empty_graph.execute_query("MATCH (b:Build) RETURN b.id AS id").records
    ]

    run_tc("build-db", "--source-dir", str(SAMPLE_DIR))
    assert graph_counts(empty_graph, "neo4j") == counts
    again = [
        r["id"] for r in empty_graph.execute_query("MATCH (b:Build) RETURN b.id AS id").records
    ]
    assert again == build_ids and len(build_ids) == 1


def test_labels_round_trip(empty_graph):
    run_tc("build-db", "--source-dir", str(SAMPLE_DIR))
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


def test_malformed_row_exits_nonzero_naming_file_line_field(empty_graph, sample_copy):
    sga = sample_copy / "SGA_sample_GENERATED.txt"
    lines = sga.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace("0.9522", "0.95x2")
    sga.write_text("\n".join(lines), encoding="utf-8")
    result = run_tc("build-db", "--source-dir", str(sample_copy), check=False)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert (
        f"{sga}, line 3, field 'Double mutant fitness': '0.95x2' is not a finite number" in message
    )
    assert "Traceback" not in result.stderr
    # Nothing was loaded: the parse fails before the first write.
    assert graph_counts(empty_graph, "neo4j").nodes == {}


def test_dead_neo4j_says_how_to_start_one(neo4j, tmp_path):
    dead = {"TC_NEO4J_URI": "bolt://127.0.0.1:1", "TC_HOME": str(tmp_path)}
    for args in (
        ["build-db"],
        [
            "materialize-dataset",
            "pipeline/datasets/costanzo2016_sample.yaml",
            "--out",
            str(tmp_path / "ds"),
        ],
        ["db", "status"],
        ["db", "stats"],
    ):
        result = run_tc(*args, env=dead, check=False)
        assert result.returncode == 1, args
        assert "Cannot reach Neo4j at bolt://127.0.0.1:1" in result.stderr, args
        assert "tc db start" in result.stderr and "Traceback" not in result.stderr, args
