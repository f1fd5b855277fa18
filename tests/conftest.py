"""Shared fixtures: the project's own embedded Neo4j, started once per test session (per
worker under ``make test``, which runs the files on two pytest-xdist workers).

Tests that need Neo4j take the ``neo4j`` fixture. Under CI=true a Neo4j that cannot start
fails those tests loudly; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from torchcell.graphdb import local_server
from torchcell.graphdb.connection import Neo4jSettings, open_driver
from torchcell.paths import PIPELINE, SAMPLE_DIR

IN_CI = os.environ.get("CI", "").lower() == "true"
# Stages run in the local pool unless a test asks for SLURM (auto would pick SLURM where
# sbatch is installed).
os.environ.setdefault("TC_EXECUTOR", "local")
if os.environ.get("PYTEST_XDIST_WORKER"):  # `make test` runs two workers: one thread each
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
TC = str(Path(sys.executable).with_name("tc"))


def unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def neo4j(tmp_path_factory) -> Neo4jSettings:
    """A running embedded Neo4j on a free port with a temporary data directory."""
    home = tmp_path_factory.mktemp("tc_home")
    previous = os.environ.get("TC_HOME")
    os.environ["TC_HOME"] = str(home)
    try:
        state = local_server.start(port=local_server.free_port(), home=home / "neo4j", heap="768m")
    except Exception as err:  # noqa: BLE001 - any failure to start is reported the same way
        unavailable(f"the embedded Neo4j could not start: {err}")
    settings = Neo4jSettings(uri=state.uri, user="neo4j", password=local_server.password())
    os.environ.update(
        TC_NEO4J_URI=state.uri, TC_NEO4J_USER="neo4j", TC_NEO4J_PASSWORD=settings.password
    )
    yield settings
    local_server.stop()
    for name in ("TC_NEO4J_URI", "TC_NEO4J_USER", "TC_NEO4J_PASSWORD"):
        os.environ.pop(name, None)
    if previous is None:
        os.environ.pop("TC_HOME", None)
    else:
        os.environ["TC_HOME"] = previous


@pytest.fixture
def driver(neo4j):
    with open_driver(neo4j) as drv:
        yield drv


# The bundled sample, once built, serves every module that reads it until a test empties the
# graph (``clear``): "generation" counts the builds, "graph" is the generation now loaded (None
# after a clear), "datasets" maps a generation to its materialized dataset.
_SAMPLE: dict = {"graph": None, "generation": 0, "datasets": {}}


def clear(driver) -> None:
    _SAMPLE["graph"] = None  # whatever is loaded next is not the sample until it is rebuilt
    with driver.session() as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


@pytest.fixture
def empty_graph(driver):
    """The graph emptied before the test (constraints stay)."""
    clear(driver)
    return driver


@pytest.fixture(scope="module")
def sample_graph(neo4j, tmp_path_factory):
    """The bundled sample in the graph for a test module: built when a test since the last build
    emptied the graph, else the one already loaded (tests must not change the graph)."""
    with open_driver(neo4j) as drv:
        if _SAMPLE["graph"] is None:
            clear(drv)
            build = tmp_path_factory.mktemp("build")
            run_tc("build-db", "--source-dir", str(SAMPLE_DIR), "--out", str(build))
            _SAMPLE["generation"] += 1
            _SAMPLE["graph"] = _SAMPLE["generation"]
        yield drv


@pytest.fixture(scope="module")
def sample_dataset(sample_graph, tmp_path_factory) -> Path:
    """The demo's dataset spec materialized from the sample graph (one shard), once per build of
    the sample; tests must not change it (copy it first)."""
    generation = _SAMPLE["graph"]
    if generation not in _SAMPLE["datasets"]:
        out = tmp_path_factory.mktemp("dataset")
        spec = PIPELINE / "datasets/costanzo2016_sample.yaml"
        run_tc("materialize-dataset", str(spec), "--out", str(out))
        _SAMPLE["datasets"][generation] = out
    return _SAMPLE["datasets"][generation]


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    """A writable copy of the bundled sample, for tests that corrupt a file."""
    dst = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, dst, ignore=shutil.ignore_patterns("*.py", "*.md"))
    return dst


FAULTS = Path(__file__).parent / "fault_injection"


def fault_env(spec: str) -> dict:
    """The environment that makes a shard task die (``fault_injection/sitecustomize.py``):
    ``"<shard>"`` at its start, ``"<shard>:<n>"`` after n records."""
    path = os.pathsep.join(p for p in (str(FAULTS), os.environ.get("PYTHONPATH", "")) if p)
    return {"TC_TEST_FAULT": spec, "PYTHONPATH": path}


def run_tc(
    *args: str, env: dict | None = None, unset: tuple[str, ...] = (), check: bool = True
) -> subprocess.CompletedProcess:
    """Run the real ``tc`` console script with this process's environment plus ``env``, less ``unset``."""
    environ = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset}
    result = subprocess.run([TC, *args], capture_output=True, text=True, env=environ, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(
            f"tc {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def slurm_cluster() -> str:
    """A running SLURM cluster (slurm/local-cluster.sh start); its SLURM_CONF."""
    if shutil.which("sinfo") is None:
        unavailable("SLURM is not installed (apt-get install slurmctld slurmd slurm-client munge)")
    result = subprocess.run(
        ["sinfo", "-h", "-o", "%T %D"], capture_output=True, text=True, check=False
    )
    idle = sum(
        int(n)
        for state, n in (ln.split() for ln in result.stdout.splitlines())
        if state in ("idle", "mixed")
    )
    if result.returncode != 0 or idle < 4:
        unavailable(
            f"no SLURM cluster with 4 nodes answers (start one with slurm/local-cluster.sh start): {result.stderr.strip()}"
        )
    return os.environ.get("SLURM_CONF", "")
