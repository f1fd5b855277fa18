"""`tc db start|status|stop` manage a real embedded Neo4j through the state file."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from torchcell.graphdb.local_server import free_port, port_is_free, read_state

from conftest import run_tc


def test_start_status_stop(tmp_path):
    unset = ("TC_NEO4J_URI", "TC_NEO4J_USER", "TC_NEO4J_PASSWORD")
    local = {"env": {"TC_HOME": str(tmp_path)}, "unset": unset}
    port = free_port()
    started = run_tc("db", "start", "--port", str(port), "--heap", "512m", **local)
    state = json.loads((tmp_path / "neo4j.json").read_text())
    try:
        assert f"bolt://127.0.0.1:{port}" in started.stdout and state["port"] == port
        status = run_tc("db", "status", **local)
        assert "answers at" in status.stdout and str(port) in status.stdout
        assert "tc db password" in status.stdout
        secret_file = tmp_path / "neo4j.password"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600, "only its owner may read it"
        secret = run_tc("db", "password", **local).stdout.strip()
        assert len(secret) >= 24 and secret == secret_file.read_text().strip()
        uri = f"bolt://127.0.0.1:{port}"
        for auth in (None, ("neo4j", "neo4j"), ("neo4j", secret + "x")):
            with GraphDatabase.driver(uri, auth=auth) as other, pytest.raises(AuthError):
                other.verify_connectivity()  # another user of the host, without the password
        with GraphDatabase.driver(uri, auth=("neo4j", secret)) as own:
            own.verify_connectivity()
        stats = run_tc("db", "stats", **local)
        assert stats.returncode == 0, "every command reads the password itself"
    finally:
        stopped = run_tc("db", "stop", **local)
    assert f"pid {state['pid']}" in stopped.stdout
    assert port_is_free(port) and not (tmp_path / "neo4j.json").exists()
    assert "shutting down" in (tmp_path / "neo4j" / "launcher.log").read_text()


def test_the_record_of_a_killed_server_is_not_taken_for_a_running_one(tmp_path, monkeypatch):
    """kill -9 of a server that `tc db start` left running (its parent gone, so init reaps it):
    for a moment it is a dying process or a zombie that still answers kill(0); the next start
    must not take its record for a live server (CI once lost every later Neo4j test to that)."""
    from torchcell.graphdb import local_server

    monkeypatch.setenv("TC_HOME", str(tmp_path))
    monkeypatch.setattr(local_server, "DYING_S", 1.0)
    orphan = subprocess.run(
        ["bash", "-c", "setsid sleep 120 >/dev/null 2>&1 & echo $!"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    pid = int(orphan.stdout)
    state = {"pid": pid, "port": free_port(), "home": str(tmp_path), "log": str(tmp_path / "l")}
    (tmp_path / "neo4j.json").write_text(json.dumps(state))
    try:
        assert read_state() is not None, "alive: its record stands (nothing listens, it waits)"
    except AssertionError:
        os.kill(pid, signal.SIGKILL)
        raise
    os.kill(pid, signal.SIGKILL)
    assert read_state() is None
    assert not (tmp_path / "neo4j.json").exists()
