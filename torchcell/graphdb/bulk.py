"""The bulk loader: ``neo4j-admin database import full`` of a finalized build into the local Neo4j.

Fast (no transactions, no index lookups) but offline: it replaces the database, so the local
server is stopped for the import and started again afterwards. The import tool runs from the
Maven launcher project's classpath (``org.neo4j.cli.AdminTool``), the same Neo4j version.
With ``--bad-tolerance=0`` any duplicate id or dangling link fails the import instead of being
skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from torchcell.errors import TorchCellError
from torchcell.graphdb import local_server
from torchcell.graphdb.build import BuildSummary, part_files
from torchcell.graphdb.csv_shards import HEADERS
from torchcell.graphdb.model import ARRAY_DELIMITER, NODES, RELATIONSHIPS


def import_command(build_dir: Path, summary: BuildSummary, database: str = "neo4j") -> list[str]:
    """The neo4j-admin arguments that import every CSV group of the build."""
    build_dir = Path(build_dir)
    # The database name goes first: after --nodes (arity 1..*) it would be read as another file.
    args = [
        "database", "import", "full", database, "--overwrite-destination=true",
        f"--array-delimiter={ARRAY_DELIMITER}", "--bad-tolerance=0",
        f"--report-file={build_dir / 'import.report'}",
    ]  # fmt: skip
    for option, names in (("--nodes", NODES), ("--relationships", RELATIONSHIPS)):
        for name in names:
            files = part_files(build_dir, summary.shards, name)
            if files:
                group = ",".join(str(p) for p in [build_dir / HEADERS / f"{name}.csv", *files])
                args.append(f"{option}={name}={group}")
    return args


def import_into(home: Path, build_dir: Path, heap: str = "2g") -> None:
    """Import the build into the database folder of a local Neo4j whose home is ``home``."""
    summary = BuildSummary.read(build_dir)
    java = shutil.which("java")
    if java is None:
        raise TorchCellError("java is not on PATH; the bulk import needs a JDK 17 or newer")
    root = local_server.build_launcher()
    home = Path(home)
    (home / "conf").mkdir(parents=True, exist_ok=True)
    classpath = f"{root / 'target' / 'classes'}{os.pathsep}{root / 'target' / 'lib'}/*"
    cmd = [
        java,
        f"-Xmx{heap}",
        "-cp",
        classpath,
        "org.neo4j.cli.AdminTool",
        *import_command(build_dir, summary),
    ]
    env = {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")}
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    (Path(build_dir) / "import.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise TorchCellError(
            f"neo4j-admin import failed (log {Path(build_dir) / 'import.log'}):\n{tail}"
        )


def load_bulk(build_dir: Path) -> local_server.ServerState:
    """Replace the local server's database with the build: stop, import, start, constraints."""
    state = local_server.read_state()
    if state is None:
        raise TorchCellError(
            "the bulk loader writes the files of the local Neo4j: start it once with `tc db start` "
            "(for docker compose, run neo4j-admin database import inside the container instead)"
        )
    local_server.stop()
    try:
        import_into(Path(state.home), build_dir)
    finally:
        # Started again whatever happened, so a failed import leaves a server to inspect.
        state = local_server.start(
            port=state.port, home=Path(state.home), heap=state.heap, pagecache_mb=state.pagecache_mb
        )
    return state
