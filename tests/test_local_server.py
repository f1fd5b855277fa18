"""`tc db start|status|stop` manage a real embedded Neo4j through the state file."""

from __future__ import annotations

import json

from torchcell.graphdb.local_server import free_port, port_is_free

from conftest import run_tc


def test_start_status_stop(tmp_path):
    local = {"env": {"TC_HOME": str(tmp_path)}, "unset": ("TC_NEO4J_URI",)}
    port = free_port()
    started = run_tc("db", "start", "--port", str(port), "--heap", "512m", **local)
    state = json.loads((tmp_path / "neo4j.json").read_text())
    try:
        assert f"bolt://127.0.0.1:{port}" in started.stdout and state["port"] == port
        status = run_tc("db", "status", **local)
        assert "answers at" in status.stdout and str(port) in status.stdout
    finally:
        stopped = run_tc("db", "stop", **local)
    assert f"pid {state['pid']}" in stopped.stdout
    assert port_is_free(port) and not (tmp_path / "neo4j.json").exists()
    assert "shutting down" in (tmp_path / "neo4j" / "launcher.log").read_text()
