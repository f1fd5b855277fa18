"""The local embedded Neo4j: build the launcher with Maven, start, stop, report status.

The launcher is the Maven project in ``pipeline/neo4j`` (Neo4j 5.26 community with Bolt, the same
version as docker-compose.yml). ``start`` runs it in the background and records pid, port, data
directory and log file in ``<state dir>/neo4j.json``; ``stop`` and ``status`` read that record.
The state directory is ``$TC_HOME`` or ``~/.torchcell``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from torchcell.errors import TorchCellError
from torchcell.paths import LAUNCHER_DIR

MAIN_CLASS = "org.torchcell.neo4j.Launcher"
READY_TIMEOUT_S = 180.0


def state_dir() -> Path:
    return Path(os.environ.get("TC_HOME", Path.home() / ".torchcell"))


def launcher_dir() -> Path:
    """``pipeline/neo4j`` of this checkout, or ``$TC_NEO4J_LAUNCHER`` when set."""
    override = os.environ.get("TC_NEO4J_LAUNCHER")
    if override:
        return Path(override)
    return LAUNCHER_DIR


@dataclass(frozen=True)
class ServerState:
    pid: int
    port: int
    home: str
    log: str
    heap: str = "1g"
    pagecache_mb: int = 256

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"


def _state_file() -> Path:
    return state_dir() / "neo4j.json"


PASSWORD_FILE = "neo4j.password"


def password_file() -> Path:
    return state_dir() / PASSWORD_FILE


def password(create: bool = False) -> str | None:
    """The local server's password (user ``neo4j``), kept in ``$TC_HOME/neo4j.password``.

    Created at random (mode 0600, only its owner can read it) when ``create`` and missing.
    """
    path = password_file()
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24) + "\n")
    if path.stat().st_mode & 0o077:
        raise TorchCellError(
            f"{path} can be read by other users; make it private with: chmod 600 {path}"
        )
    return path.read_text().strip()


DYING_S = 15.0
"""How long a recorded server whose port is closed may take to exit before its record is
believed anyway."""


def read_state() -> ServerState | None:
    """The recorded local server, or None when none was started (or it has died)."""
    path = _state_file()
    if not path.exists():
        return None
    state = ServerState(**json.loads(path.read_text()))
    # a recorded server always listens (the record is written once it answers): a closed port
    # means it died or is dying (a kill -9 takes a moment, and the reaping of an orphan by
    # init another), so wait for its process to go rather than hand back a dead record
    if not _alive(state.pid) or (port_is_free(state.port) and _exits(state.pid, DYING_S)):
        path.unlink(missing_ok=True)
        return None
    return state


def _exits(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # our own child: reap it if it has exited
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        pass
    # not ours: a zombie (dead, until init reaps it) still answers kill(0)
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:  # gone meanwhile, or a system without /proc (macOS): trust kill(0)
        return not Path("/proc/self").exists()


def build_launcher(quiet: bool = True) -> Path:
    """Compile the launcher once (Maven, offline after the first run); return its directory."""
    root = launcher_dir()
    lib = root / "target" / "lib"
    classes = root / "target" / "classes"
    if lib.is_dir() and classes.is_dir():
        pom_time = (root / "pom.xml").stat().st_mtime
        sources = list((root / "src").rglob("*.java"))
        newest = max([pom_time, *(p.stat().st_mtime for p in sources)])
        if min(lib.stat().st_mtime, classes.stat().st_mtime) >= newest:
            return root
    mvn = shutil.which("mvn")
    if mvn is None:
        raise TorchCellError(
            "Maven (mvn) is not on PATH; it is needed once to build the local Neo4j in "
            f"{root}. Install Maven and a JDK 17+, or use docker compose and TC_NEO4J_URI."
        )
    cmd = [mvn, "-B", "package", "-DskipTests"] + (["-q"] if quiet else [])
    result = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise TorchCellError(
            f"building the local Neo4j failed ({' '.join(cmd)} in {root}):\n{tail}"
        )
    (root / "target" / "lib").touch()
    (root / "target" / "classes").touch()
    return root


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(
    port: int = 7687,
    home: Path | None = None,
    heap: str = "1g",
    pagecache_mb: int = 256,
    timeout_s: float = READY_TIMEOUT_S,
) -> ServerState:
    """Start the local Neo4j in the background and wait until it answers on Bolt.

    Returns the existing server's record when one is already running.
    """
    running = read_state()
    if running is not None:
        return running
    if not port_is_free(port):
        raise TorchCellError(
            f"port {port} is already in use; pass --port to choose another one, or point "
            "TC_NEO4J_URI at the server that is listening there"
        )
    java = shutil.which("java")
    if java is None:
        raise TorchCellError("java is not on PATH; the local Neo4j needs a JDK 17 or newer")
    root = build_launcher()
    home = Path(home) if home else state_dir() / "neo4j"
    home.mkdir(parents=True, exist_ok=True)
    log = home / "launcher.log"
    classpath = f"{root / 'target' / 'classes'}{os.pathsep}{root / 'target' / 'lib'}/*"
    password(create=True)
    cmd = [
        java, f"-Xmx{heap}", "-XX:+UseG1GC", "-cp", classpath, MAIN_CLASS,
        "--home", str(home), "--port", str(port), "--pagecache-mb", str(pagecache_mb),
        "--password-file", str(password_file()),
    ]  # fmt: skip
    # the log is appended to: only what this run writes counts (a previous start's "ready" line,
    # e.g. of a server killed before this start, must not be taken for this one's)
    offset = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    state = ServerState(
        pid=proc.pid, port=port, home=str(home), log=str(log), heap=heap, pagecache_mb=pagecache_mb
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TorchCellError(
                f"the local Neo4j exited with code {proc.returncode}; log {log}:\n{_tail(log)}"
            )
        written = _written_since(log, offset)
        if 'Exception in thread "main"' in written:  # the JVM may live on without serving
            proc.kill()
            raise TorchCellError(f"the local Neo4j failed to start; log {log}:\n{_tail(log)}")
        if "torchcell-neo4j: ready" in written and not port_is_free(port):
            state_dir().mkdir(parents=True, exist_ok=True)
            _state_file().write_text(json.dumps(asdict(state)))
            return state
        time.sleep(0.5)
    proc.terminate()
    raise TorchCellError(
        f"the local Neo4j did not answer within {timeout_s:.0f} s; log {log}:\n{_tail(log)}"
    )


def stop(timeout_s: float = 60.0) -> ServerState | None:
    """Stop the recorded server (SIGTERM, clean shutdown); return what was stopped, if anything."""
    state = read_state()
    if state is None:
        return None
    os.kill(state.pid, signal.SIGTERM)
    if not _exits(state.pid, timeout_s):
        os.kill(state.pid, signal.SIGKILL)
    _state_file().unlink(missing_ok=True)
    return state


def _written_since(path: Path, offset: int) -> str:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
