"""The sharded stages on a real SLURM cluster (four virtual nodes, slurm/local-cluster.sh).

Each stage must give exactly what the local process pool gives; a failed shard must leave the
finalize step unrun and rerunning the command must finish the run without duplicates.
"""

from __future__ import annotations

import json

from torchcell.graphdb.stats import graph_counts
from torchcell.paths import PIPELINE, SAMPLE_DIR
from torchcell.store.shard import open_shard

from conftest import clear, fault_env, run_tc

SPEC = PIPELINE / "datasets" / "costanzo2016_sample.yaml"
SLURM = ["--executor", "slurm", "--wait", "--mem", "1G"]


def build(folder, *args, **kwargs):
    return run_tc(
        "build-db",
        "--source-dir",
        str(SAMPLE_DIR),
        "--out",
        str(folder),
        "--nodes",
        "4",
        *args,
        **kwargs,
    )


def test_build_db_on_slurm_equals_local(slurm_cluster, driver, tmp_path):
    clear(driver)
    build(tmp_path / "local", "--executor", "local")
    local = graph_counts(driver, "neo4j")
    local_ids = [r["id"] for r in driver.execute_query("MATCH (b:Build) RETURN b.id AS id").records]
    clear(driver)
    result = build(tmp_path / "slurm", *SLURM)
    assert "submitted build-db: array job" in result.stdout and "finalize job" in result.stdout
    assert graph_counts(driver, "neo4j") == local
    assert [
        r["id"] for r in driver.execute_query("MATCH (b:Build) RETURN b.id AS id").records
    ] == local_ids
    local_summary = json.loads((tmp_path / "local" / "build.json").read_text())
    slurm_summary = json.loads((tmp_path / "slurm" / "build.json").read_text())
    assert slurm_summary == local_summary
    for index in range(4):
        assert (tmp_path / "slurm" / "slurm" / f"shard-{index}.log").exists()


def materialize(out, *args, **kwargs):
    return run_tc(
        "materialize-dataset", str(SPEC), "--out", str(out), "--nodes", "4", *args, **kwargs
    )


def test_materialize_on_slurm_equals_local_and_resumes_after_a_failed_shard(
    slurm_cluster, driver, tmp_path
):
    clear(driver)
    build(tmp_path / "build", "--executor", "local")
    materialize(tmp_path / "local", "--executor", "local")
    local = json.loads((tmp_path / "local" / "manifest.json").read_text())

    out = tmp_path / "slurm"
    failed = materialize(out, *SLURM, env=fault_env("2"), check=False)
    assert failed.returncode == 1
    message = " ".join(failed.stderr.split())
    assert (
        f"shard 2: {out / 'slurm' / 'shard-2.log'}" in message
        and "cancelled the finalize job" in message
    )
    assert not (out / "manifest.json").exists(), "finalize must not run after a failed shard"
    status = run_tc("jobs", "status", str(out), check=False)
    assert status.returncode == 1 and "failed" in status.stdout and "CANCELLED" in status.stdout

    resumed = materialize(out, *SLURM)
    assert "(shards 2)" in " ".join(resumed.stdout.split()), "only the failed shard is resubmitted"
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["sha256"] for s in manifest["shards"]] == [s["sha256"] for s in local["shards"]]
    ids = [r.id for s in manifest["shards"] for r in open_shard(out / s["file"])]
    assert len(ids) == len(set(ids)) == manifest["count"] == local["count"]


def test_train_job_on_slurm(slurm_cluster, driver, tmp_path):
    clear(driver)
    build(tmp_path / "build", "--executor", "local")
    materialize(tmp_path / "data", "--executor", "local")
    result = run_tc(
        "train", str(PIPELINE / "train/demo.yaml"), "--dataset", str(tmp_path / "data"),
        "--out", str(tmp_path / "train"), "--epochs", "2",
        "--executor", "slurm", "--gpus", "0", "--cpus", "2", "--mem", "2G", "--wait",
    )  # fmt: skip
    assert "submitted training job" in result.stdout and "completed" in result.stdout
    metrics = json.loads((tmp_path / "train" / "metrics.json").read_text())
    assert len(metrics["history"]) == 2
    assert "val pearson fitness" in (tmp_path / "train" / "slurm" / "train.log").read_text()
