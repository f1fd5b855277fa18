"""One writer at a time: an exclusive, non-blocking lock on a file beside what is written.

Two ``tc materialize-dataset`` into one folder would otherwise share the temporary shard files
and rename each other's work away. The lock is ``flock`` on a small file that names its holder;
the kernel drops it when the holder exits, however it exits, so a killed writer never leaves a
stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from torchcell.errors import TorchCellError


@contextmanager
def exclusive(lock_file: Path, what: str) -> Iterator[None]:
    """Hold ``lock_file`` for the body; a TorchCellError naming ``what`` and the holder when
    another process holds it."""
    lock_file = Path(lock_file)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise TorchCellError(
                f"{what} is being written by {holder} (lock {lock_file}); wait for it to finish, "
                "or choose another --out"
            ) from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
