"""Faults a user meets end in one line naming the file or setting, never a traceback, and
never in a silently wrong result (real Neo4j, real LMDB shards, the real `tc` commands)."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys

import pytest
import torch

from torchcell.paths import PIPELINE, SAMPLE_DIR

from conftest import TC, run_tc

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
        "train", str(DEMO), "--dataset", str(data), "--out", str(out), "--epochs", "1",
        "--no-progress", *extra, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def finished_run(sample_dataset, tmp_path_factory):
    """A finished one-epoch `tc train` of the demo config (tests copy it before changing it)."""
    run = tmp_path_factory.mktemp("finished") / "run"
    assert train(sample_dataset, run).returncode == 0
    return run


def shard_of(data):
    manifest = json.loads((data / "manifest.json").read_text())
    return data / manifest["shards"][0]["file"]


def test_edited_shard_is_found_by_verify_and_refused_by_train(dataset_copy, tmp_path):
    """The failure this guards against: verify reported the sha256 mismatch and train trained on the changed labels."""
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


def test_evaluate_on_a_killed_or_damaged_run_is_one_line(sample_dataset, finished_run, tmp_path):
    """The failure this guards against: IsADirectoryError, KeyError: 'config' and OSError tracebacks."""
    run = shutil.copytree(finished_run, tmp_path / "run")
    assert run_tc("evaluate", str(run), str(sample_dataset)).returncode == 0  # a folder is a run
    model = (run / "model.pt").read_bytes()
    (run / "model.pt").write_bytes(model[: len(model) // 2])
    one_line_error(run_tc("evaluate", str(run / "model.pt"), str(sample_dataset), check=False),
                   "model.pt is not a readable model.pt", "truncated")  # fmt: skip
    lightning = run / "checkpoints" / "best.ckpt"  # the same format: it scores too
    assert run_tc("evaluate", str(lightning), str(sample_dataset)).returncode == 0
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    one_line_error(run_tc("evaluate", str(other), str(sample_dataset), check=False),
                   "other.pt is not a model.pt written by tc train", "lacks hyper_parameters")  # fmt: skip
    for leftover in run.iterdir():  # what a tc train killed mid-fit leaves: checkpoints/, logs/
        if leftover.name not in ("checkpoints", "logs"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    one_line_error(run_tc("evaluate", str(run), str(sample_dataset), check=False),
                   "holds no model.pt", "did not finish")  # fmt: skip


def test_train_refuses_to_overwrite_a_run(sample_dataset, finished_run, tmp_path):
    out = shutil.copytree(finished_run, tmp_path / "run")
    first = (out / "metrics.json").read_text()
    one_line_error(train(sample_dataset, out), "already holds a run", "--overwrite")
    assert (out / "metrics.json").read_text() == first, "the run is untouched"
    assert train(sample_dataset, out, "--overwrite").returncode == 0


def test_empty_dataset_is_refused_by_train(sample_graph, tmp_path):
    spec = tmp_path / "empty.yaml"
    spec.write_text(SPEC.read_text() + "kinds: [suppressor]\n")  # the sample has none
    run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "data"))
    one_line_error(train(tmp_path / "data", tmp_path / "run"), "holds 0 records")


@pytest.mark.parametrize(
    ("extra", "named"), [("media: [NOPE]", "NOPE"), ("temperatures: [99]", "99 °C")]
)
def test_misspelled_environment_is_refused_naming_the_graphs(sample_graph, tmp_path, extra, named):
    """The failure this guards against: a complete dataset of 0 records, exit 0, accepted by tc dataset verify."""
    spec = tmp_path / "typo.yaml"
    spec.write_text(SPEC.read_text() + extra + "\n")
    result = run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "d"), check=False)
    one_line_error(
        result, "no environment of the graph has", named, "the graph holds", "SGA at 30 °C"
    )
    assert not (tmp_path / "d" / "manifest.json").exists()


def test_concurrent_writers_of_one_dataset_folder_take_turns(sample_graph, tmp_path):
    """The failure this guards against: both shared one shard-….lmdb.tmp; one died with a traceback, the other exited 0
    over a folder that tc dataset verify rejected."""
    from torchcell.folder_lock import exclusive
    from torchcell.store.materialize import LOCK

    out = tmp_path / "d"
    with exclusive(out / LOCK, "the test"):
        held = run_tc("materialize-dataset", str(SPEC), "--out", str(out), check=False)
    one_line_error(held, f"dataset folder {out} is being written by pid", "choose another --out")
    command = [TC, "materialize-dataset", str(SPEC), "--out", str(out), "--nodes", "2"]
    racers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    results = [(r.wait(timeout=600), *r.communicate()) for r in racers]
    assert any(rc == 0 for rc, _, _ in results), results
    for rc, _, err in results:
        assert "Traceback" not in err, err
        assert rc == 0 or "is being written by" in err, err
    assert run_tc("dataset", "verify", str(out)).returncode == 0


def test_every_file_of_a_dataset_is_covered_by_the_manifest(dataset_copy, tmp_path):
    """The failure this guards against: genes.json, layout.json and the shard records could be edited and verify passed."""
    manifest = json.loads((dataset_copy / "manifest.json").read_text())
    sidecar = dataset_copy / (manifest["shards"][0]["file"] + ".json")
    assert set(manifest["files"]) == {"layout.json", "genes.json", sidecar.name}
    for name in manifest["files"]:
        copy = tmp_path / name
        copy.write_bytes((dataset_copy / name).read_bytes())
        (dataset_copy / name).write_text(
            (dataset_copy / name).read_text() + " "
        )  # still valid JSON
        verify = run_tc("dataset", "verify", str(dataset_copy), check=False)
        assert verify.returncode != 0 and f"{name} is missing or differs" in verify.stdout, name
        (dataset_copy / name).write_bytes(copy.read_bytes())
    assert run_tc("dataset", "verify", str(dataset_copy)).returncode == 0


def test_a_resumed_materialization_refuses_edited_inputs_and_redoes_edited_records(
    sample_graph, tmp_path
):
    out = tmp_path / "d"
    run_tc("materialize-dataset", str(SPEC), "--out", str(out), "--nodes", "2")
    first = json.loads((out / "manifest.json").read_text())
    sidecar = out / (first["shards"][1]["file"] + ".json")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "count": meta["count"] + 5}))  # a record edited by hand
    run_tc("materialize-dataset", str(SPEC), "--out", str(out), "--nodes", "2")
    again = json.loads((out / "manifest.json").read_text())
    assert again["count"] == first["count"] and again["shards"] == first["shards"]
    genes = out / "genes.json"
    genes.write_text(genes.read_text().replace("Y", "Z", 1))
    result = run_tc(
        "materialize-dataset", str(SPEC), "--out", str(out), "--nodes", "2", check=False
    )
    one_line_error(result, "genes.json is missing or differs from the one", "layout.json")


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [("shards", "abc", "field 'shards' is str"), ("count", "12", "field 'count' is str"),
     ("shards", [{"file": 3}], "shards[0].file is 3")],
)  # fmt: skip
def test_manifest_with_wrong_field_types_is_one_line(dataset_copy, tmp_path, field, value, said):
    path = dataset_copy / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), field: value}))
    results = [run_tc("dataset", "verify", str(dataset_copy), check=False)]
    if field == "shards" and value == "abc":  # the case of the report, through tc train too
        results.append(train(dataset_copy, tmp_path / "run"))
    for result in results:
        one_line_error(result, "manifest.json", said, "materialize the dataset again")


def test_yaml_syntax_error_names_file_and_line(sample_graph, tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text("name: broken\ndatasets: [costanzo2016_smf\nlabels: [fitness]\n")
    result = run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "d"), check=False)
    one_line_error(result, str(spec), "not valid YAML")
    config = tmp_path / "broken_train.yaml"
    config.write_text("model: [gene_set\n")
    one_line_error(run_tc("train", str(config), check=False), "not valid YAML", "line")


def test_non_utf8_spec_and_config_are_one_line(tmp_path):
    spec = tmp_path / "latin1.yaml"
    spec.write_bytes("name: m\u00e9dia\ndatasets: [costanzo2016_smf]\n".encode("latin-1"))
    result = run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "d"), check=False)
    one_line_error(result, str(spec), "line 1", "not UTF-8")
    config = tmp_path / "latin1_train.yaml"
    config.write_bytes(b"model: gene_set\n# \xff\n")
    one_line_error(run_tc("train", str(config), check=False), str(config), "line 2", "not UTF-8")


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
    result = run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "d2"), check=False)
    one_line_error(result, "no environment of the graph has")
    from torchcell.store.spec import DatasetSpec

    query = DatasetSpec.from_yaml(spec)  # the partition query itself, run with the hostile medium
    assert sample_graph.execute_query(query.cypher(), query.parameters()).records == []
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
        "build-db", "--source-dir", str(folder), "--out", str(tmp_path / "b"),
        "--loader", "none", check=False,
    )  # fmt: skip
    one_line_error(result, "SGD_features.tab")


@pytest.mark.parametrize(
    ("fill", "said"), [(b"\0", "line longer than"), (b"\n", "decompresses to more than")]
)
def test_gzip_bomb_source_is_refused_in_bounded_memory(tmp_path, fill, said):
    """The failure this guards against: 1 GiB of zeros in a 1 MB .gz drove tc build-db past 20 GB until it was killed."""
    folder = tmp_path / "src"
    folder.mkdir()
    with gzip.open(folder / "SGD_features.tab.gz", "wb", compresslevel=9) as bomb:
        for _ in range(1024):
            bomb.write(fill * (1 << 20))
    command = [TC, "build-db", "--source-dir", str(folder), "--out", str(tmp_path / "b"), "--loader", "none"]  # fmt: skip
    peak = tmp_path / "peak_kib"
    measure = (  # the peak RSS of tc alone, not of every child this test process ever waited for
        "import resource, subprocess, sys; rc = subprocess.run(sys.argv[2:]).returncode; "
        "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
        "sys.exit(rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", measure, str(peak), *command],
        capture_output=True,
        text=True,
        timeout=300,
    )
    one_line_error(result, "SGD_features.tab.gz", said)
    peak_kib = int(peak.read_text())
    assert peak_kib < 2 << 20, f"the refusal peaked at {peak_kib >> 10} MiB"


def test_garbage_neo4j_uri_is_one_line(tmp_path):
    result = run_tc("db", "status", env={"TC_NEO4J_URI": "garbage"}, check=False)
    one_line_error(result, "TC_NEO4J_URI='garbage' is not a Neo4j address")


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://127.0.0.1:7474", "scheme 'http' is not one of"),
        ("bolt://127.0.0.1:99999", "Port out of range"),
        ("bolt://neo4j:s3cret-pw@127.0.0.1:7687", "credentials belong in TC_NEO4J_USER"),
    ],
)
def test_bad_neo4j_uri_is_one_line_and_never_prints_a_password(uri, reason):
    result = run_tc("db", "status", env={"TC_NEO4J_URI": uri}, check=False)
    one_line_error(result, "is not a Neo4j address", reason)
    assert "s3cret-pw" not in result.stdout + result.stderr


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
