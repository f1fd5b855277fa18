"""One graph, one build: complete only once verified, never silently mixed (real Neo4j)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from torchcell.checksum import write_json
from torchcell.graphdb.stats import graph_counts
from torchcell.paths import PIPELINE, SAMPLE_DIR

from conftest import TC, run_tc
from sample_counts import expected_counts

SPEC = PIPELINE / "datasets" / "costanzo2016_sample.yaml"


def builds(driver) -> list[dict]:
    return [
        dict(r)
        for r in driver.execute_query(
            "MATCH (b:Build) RETURN b.id AS id, b.complete AS complete, "
            "b.appended_to AS appended_to ORDER BY id"
        ).records
    ]


def build(tmp_path, name: str, *args: str, check: bool = True):
    return run_tc(
        "build-db", "--source-dir", str(SAMPLE_DIR), "--out", str(tmp_path / name), *args,
        check=check,
    )  # fmt: skip


def test_a_second_build_is_refused_then_replaces_or_appends(empty_graph, tmp_path):
    build(tmp_path, "all")
    (first,) = builds(empty_graph)
    assert first["complete"] is True
    other = build(tmp_path, "go", "--only", "go", check=False)
    assert other.returncode == 1 and "--replace" in other.stderr and "--append" in other.stderr
    assert "Traceback" not in other.stderr
    assert builds(empty_graph) == [first], "nothing loaded"

    build(tmp_path, "go", "--only", "go", "--append")
    held = {b["id"]: b for b in builds(empty_graph)}
    assert len(held) == 2 and all(b["complete"] for b in held.values())
    (new,) = [b for b in held.values() if b["id"] != first["id"]]
    assert new["appended_to"] == [first["id"]], "the union is recorded in the Build node"

    build(tmp_path, "go", "--only", "go", "--replace")
    (only,) = builds(empty_graph)
    assert only["id"] == new["id"] and not only["appended_to"]
    counts = graph_counts(empty_graph, "neo4j")
    assert counts.nodes.get("Experiment", 0) == 0, "the old build's experiments are gone"
    assert counts.nodes["GOTerm"] == expected_counts()["GOTerm"]


def test_a_killed_online_load_is_refused_by_materialize_until_finished(empty_graph, tmp_path):
    """kill -9 of `tc build-db` midway: the Build node says incomplete, materialization refuses
    (the failure it guards against: exit 0 with 3,995 of 4,185 records), and rerunning the build finishes it."""
    env = {**os.environ}
    args = [TC, "build-db", "--source-dir", str(SAMPLE_DIR), "--out", str(tmp_path / "b")]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if empty_graph.execute_query("MATCH (b:Build) RETURN count(b) AS n").records[0]["n"]:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert builds(empty_graph)[0]["complete"] is False
    refused = run_tc("materialize-dataset", str(SPEC), "--out", str(tmp_path / "ds"), check=False)
    assert refused.returncode != 0 and "incomplete" in refused.stderr
    assert "Traceback" not in refused.stderr
    stats = run_tc("db", "stats")
    assert "INCOMPLETE" in stats.stdout

    build(tmp_path, "b")
    assert builds(empty_graph)[0]["complete"] is True
    made = run_tc("materialize-dataset", str(SPEC), "--out", str(tmp_path / "ds2"))
    assert "wrote" in made.stdout
    counts = graph_counts(empty_graph, "neo4j")
    assert counts.nodes["Experiment"] == expected_counts()["Experiment"], "nothing lost or doubled"


def test_a_spec_naming_a_dataset_the_graph_lacks_is_an_error(empty_graph, tmp_path):
    build(tmp_path, "b", "--only", "costanzo2016")
    spec = tmp_path / "typo.yaml"
    spec.write_text(SPEC.read_text().replace("costanzo2016_smf,", "costanzo2016_smff,"))
    result = run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "ds"), check=False)
    assert result.returncode != 0
    assert "costanzo2016_smff" in result.stderr and "costanzo2016_smf" in result.stderr
    assert not (tmp_path / "ds" / "manifest.json").exists()


def test_two_simultaneous_builds_in_one_home_take_turns(empty_graph, tmp_path):
    """The failure this guards against: the second died on a shard's .tmp (FileNotFoundError). Both finish, the later
    one reuses the shards, and the graph holds the build once."""
    args = [TC, "build-db", "--source-dir", str(SAMPLE_DIR), "--nodes", "2", "--executor", "local"]
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    counts = graph_counts(empty_graph, "neo4j")
    want = expected_counts()
    assert counts.nodes["Experiment"] == want["Experiment"]
    assert counts.relationships["PERTURBS"] == want["PERTURBS"]
    assert [b["complete"] for b in builds(empty_graph)] == [True]


def test_writing_plan_json_leaves_another_writers_temporary_file_alone(tmp_path):
    """The race the test above met in CI: both builds wrote plan.json through one
    ``plan.json.tmp``, and the first rename took the other's file (FileNotFoundError)."""
    other = tmp_path / "plan.json.tmp"  # a half-written file of another writer
    other.write_text('{"build_id": "half')
    write_json(tmp_path / "plan.json", {"build_id": "b"})
    assert json.loads((tmp_path / "plan.json").read_text()) == {"build_id": "b"}
    assert other.read_text() == '{"build_id": "half', "another writer's file was taken"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["plan.json", "plan.json.tmp"]


def test_neo4j_killed_during_an_online_load_then_restarted(neo4j, empty_graph, tmp_path):
    """kill -9 of the server midway through a load: one clear error, the server recovers on
    restart, and rerunning the build completes it with nothing lost or doubled."""
    from torchcell.graphdb import local_server
    from torchcell.graphdb.connection import open_driver

    state = local_server.read_state()
    args = [TC, "build-db", "--source-dir", str(SAMPLE_DIR), "--out", str(tmp_path / "b")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if empty_graph.execute_query("MATCH (e:Experiment) RETURN count(e) AS n").records[0]["n"]:
            break
        time.sleep(0.05)
    os.kill(state.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode != 0 and "Traceback" not in err, err
    assert "Neo4j" in err
    local_server.start(port=state.port, home=Path(state.home), heap=state.heap)
    build(tmp_path, "b")
    with open_driver(neo4j) as driver:
        counts = graph_counts(driver, "neo4j")
        assert [b["complete"] for b in builds(driver)] == [True]
    want = expected_counts()
    assert counts.nodes["Experiment"] == want["Experiment"]
    assert counts.relationships["PERTURBS"] == want["PERTURBS"]


def test_neo4j_killed_during_a_materialization_then_restarted(neo4j, sample_graph, tmp_path):
    from torchcell.graphdb import local_server

    spec = PIPELINE / "datasets" / "emap_schuldiner2005_sample.yaml"
    clean = run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "clean"))
    assert "wrote" in clean.stdout
    state = local_server.read_state()
    out = tmp_path / "ds"
    args = [TC, "materialize-dataset", str(spec), "--out", str(out), "--nodes", "3"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (out / "layout.json").exists():
        time.sleep(0.01)
    os.kill(state.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode != 0 and "Traceback" not in err, err
    assert not (out / "manifest.json").exists(), "no manifest for a dataset that did not finish"
    local_server.start(port=state.port, home=Path(state.home), heap=state.heap)
    run_tc("materialize-dataset", str(spec), "--out", str(out), "--nodes", "3")
    made, want = (json.loads((d / "manifest.json").read_text()) for d in (out, tmp_path / "clean"))
    assert made["count"] == want["count"] == expected_counts()["emap"], "nothing lost or doubled"
