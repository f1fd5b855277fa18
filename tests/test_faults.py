"""Faults a user meets end in one line naming the file or setting, never a traceback, and
never in a silently wrong result (real Neo4j, real LMDB shards, the real `tc` commands)."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from torchcell.paths import PIPELINE, SAMPLE_DIR

from conftest import run_tc

SPEC = PIPELINE / "datasets" / "costanzo2016_sample.yaml"
DEMO = PIPELINE / "train" / "demo.yaml"


def one_line_error(result, *needles: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    text = " ".join(result.stderr.split())
    for needle in needles:
        assert needle in text, (needle, text)


@pytest.fixture
def dataset_copy(sample_dataset, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(sample_dataset, copy)
    return copy


def train(data, out, *extra: str):
    return run_tc(
        "train", str(DEMO), "--dataset", str(data), "--output", str(out), "--epochs", "1",
        "--no-progress", *extra, check=False,
    )  # fmt: skip


def shard_of(data):
    manifest = json.loads((data / "manifest.json").read_text())
    return data / manifest["shards"][0]["file"]


def test_edited_shard_is_found_by_verify_and_refused_by_train(dataset_copy, tmp_path):
    """Before: verify reported the sha256 mismatch and train trained on the changed labels."""
    shard = shard_of(dataset_copy)
    raw = bytearray(shard.read_bytes())
    at = raw.index(b"\xcb")  # a msgpack float64: a label value
    raw[at + 1 : at + 9] = b"\x3f\xf0" + b"\x00" * 6  # now 1.0
    shard.write_bytes(bytes(raw))
    verify = run_tc("dataset", "verify", str(dataset_copy), check=False)
    assert verify.returncode != 0 and "sha256 differs" in verify.stdout + verify.stderr
    one_line_error(train(dataset_copy, tmp_path / "run"), "does not match its manifest", "sha256")
    assert not (tmp_path / "run" / "model.pt").exists()


def test_corrupt_and_missing_shards_are_refused(dataset_copy, tmp_path):
    shard = shard_of(dataset_copy)
    shard.write_bytes(b"not an lmdb file" * 100)
    one_line_error(train(dataset_copy, tmp_path / "a"), "not a readable LMDB shard")
    shard.unlink()
    one_line_error(train(dataset_copy, tmp_path / "b"), "is missing")
    one_line_error(
        run_tc("evaluate", str(tmp_path / "none.pt"), str(dataset_copy), check=False),
        "does not exist",
    )


def test_malformed_manifest_is_one_line(dataset_copy, tmp_path):
    manifest = dataset_copy / "manifest.json"
    manifest.write_text(manifest.read_text()[:-40])
    for result in (
        run_tc("dataset", "verify", str(dataset_copy), check=False),
        train(dataset_copy, tmp_path / "run"),
    ):
        one_line_error(result, "manifest.json", "not valid JSON")


def test_train_refuses_to_overwrite_a_run(sample_dataset, tmp_path):
    out = tmp_path / "run"
    assert train(sample_dataset, out).returncode == 0
    first = (out / "metrics.json").read_text()
    one_line_error(train(sample_dataset, out), "already holds a run", "--overwrite")
    assert (out / "metrics.json").read_text() == first, "the run is untouched"
    assert train(sample_dataset, out, "--overwrite").returncode == 0


def test_empty_dataset_is_refused_by_train(sample_graph, tmp_path):
    spec = tmp_path / "empty.yaml"
    spec.write_text(SPEC.read_text() + "temperatures: [99]\n")
    run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "data"))
    one_line_error(train(tmp_path / "data", tmp_path / "run"), "holds 0 records")


def test_yaml_syntax_error_names_file_and_line(sample_graph, tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text("name: broken\ndatasets: [costanzo2016_smf\nlabels: [fitness]\n")
    result = run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "d"), check=False)
    one_line_error(result, str(spec), "not valid YAML")
    config = tmp_path / "broken_train.yaml"
    config.write_text("model: [gene_set\n")
    one_line_error(run_tc("train", str(config), check=False), "not valid YAML", "line")


def test_hostile_strings_in_a_spec_stay_data(sample_graph, tmp_path):
    """Every text field of a spec reaches Cypher as a parameter: the graph is unchanged."""
    before = sample_graph.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"]
    hostile = "x'}) MATCH (n) DETACH DELETE n //"
    spec = tmp_path / "hostile.yaml"
    spec.write_text(
        "name: hostile\n"
        f'datasets: ["{hostile}", costanzo2016_smf]\n'
        f'media: ["{hostile}"]\n'
        "labels: [fitness]\n"
    )
    result = run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "d"), check=False)
    one_line_error(result, "does not hold")
    spec.write_text(f'name: hostile\ndatasets: [costanzo2016_smf]\nmedia: ["{hostile}"]\n')
    run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "d2"))
    assert json.loads((tmp_path / "d2" / "manifest.json").read_text())["count"] == 0
    after = sample_graph.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"]
    assert after == before


@pytest.mark.parametrize("damage", ["truncated_gz", "binary"])
def test_unreadable_source_file_is_one_line(tmp_path, damage):
    folder = tmp_path / "src"
    folder.mkdir()
    if damage == "truncated_gz":
        data = gzip.compress((SAMPLE_DIR / "SGD_features.tab").read_bytes())
        (folder / "SGD_features.tab.gz").write_bytes(data[: len(data) // 2])
    else:
        (folder / "SGD_features.tab").write_bytes(bytes(range(256)) * 200)
    result = run_tc(
        "build-db", "--source-dir", str(folder), "--build-dir", str(tmp_path / "b"),
        "--loader", "none", check=False,
    )  # fmt: skip
    one_line_error(result, "SGD_features.tab")


def test_garbage_neo4j_uri_is_one_line(tmp_path):
    result = run_tc("db", "status", env={"TC_NEO4J_URI": "garbage"}, check=False)
    one_line_error(result, "TC_NEO4J_URI='garbage' is not a Neo4j address")


def test_wrong_password_is_one_line(neo4j, tmp_path):
    result = run_tc(
        "db", "stats", env={"TC_NEO4J_USER": "intruder", "TC_NEO4J_PASSWORD": "wrong"}, check=False
    )
    one_line_error(result, "authentication failed")


def test_header_problems_name_the_column(tmp_path):
    from torchcell.errors import SourceError
    from torchcell.sources import costanzo2016

    lines = (SAMPLE_DIR / "SGA_sample_GENERATED.txt").read_text().splitlines()
    broken = tmp_path / "SGA_x.txt"
    broken.write_text("\n".join([lines[0].replace("\tP-value", ""), *lines[1:3]]) + "\n")
    with pytest.raises(SourceError, match="missing column\\(s\\) 'P-value'"):
        costanzo2016.parse_double_mutants(broken)
    empty = tmp_path / "SGA_y.txt"
    empty.write_text("")
    with pytest.raises(SourceError, match="the file is empty"):
        costanzo2016.parse_double_mutants(empty)
    huge = tmp_path / "SGA_z.txt"
    fields = lines[1].split("\t")
    fields[0] = "Y" * 1_000_000
    huge.write_text("\n".join([lines[0], "\t".join(fields)]) + "\n")
    with pytest.raises(SourceError) as err:
        costanzo2016.parse_double_mutants(huge)
    assert len(str(err.value)) < 400, "a 1 MB bad value is not echoed whole"
