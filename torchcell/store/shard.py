"""One LMDB shard file: written under a temporary name, renamed when complete, read by index."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import lmdb

from torchcell.store.records import StoredExperiment, decode, encode, key

MAP_SIZE = 1 << 36
"""64 GiB of address space; the file only grows to what is written."""
COMMIT_EVERY = 10_000


def shard_name(index: int, total: int) -> str:
    return f"shard-{index:05d}-of-{total:05d}.lmdb"


def write_shard(path: Path, records: Iterable[StoredExperiment]) -> int:
    """Write ``records`` to ``path`` atomically; return how many were written.

    The data goes to ``<path>.tmp`` first; only a complete, synced shard is renamed to ``path``,
    so a shard that exists is whole, and a killed writer leaves only a ``.tmp`` to be redone.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    for leftover in (tmp, Path(f"{tmp}-lock")):
        leftover.unlink(missing_ok=True)
    # meminit: unused page bytes are zeroed, so the same records always give the same file.
    env = lmdb.open(str(tmp), map_size=MAP_SIZE, subdir=False, lock=False, sync=False, meminit=True)
    count = 0
    try:
        txn = env.begin(write=True)
        for record in records:
            txn.put(key(count), encode(record), append=True)
            count += 1
            if count % COMMIT_EVERY == 0:
                txn.commit()
                txn = env.begin(write=True)
        txn.commit()
        env.sync(True)
    finally:
        env.close()
    os.replace(tmp, path)
    return count


_OPEN: dict[tuple[int, Path], ShardReader] = {}


def open_shard(path: Path) -> ShardReader:
    """The reader for ``path`` in this process, opened once.

    LMDB allows one open handle per file and process, and handles must not cross ``fork``: a
    forked DataLoader worker first closes the handles it inherited (read-only, lock-free, so
    this touches only the child's copy) and then opens its own.
    """
    pid = os.getpid()
    for inherited in [k for k in _OPEN if k[0] != pid]:
        _OPEN.pop(inherited).env.close()
    cache_key = (pid, Path(path).resolve())
    reader = _OPEN.get(cache_key)
    if reader is None:
        reader = _OPEN[cache_key] = ShardReader(path)
    return reader


class ShardReader:
    """Read-only access to one shard; use ``open_shard`` rather than constructing it twice."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.env = lmdb.open(
            str(self.path), subdir=False, readonly=True, lock=False, readahead=False, meminit=False
        )
        self.txn = self.env.begin(buffers=True)

    def __len__(self) -> int:
        return self.env.stat()["entries"]

    def __getitem__(self, index: int) -> StoredExperiment:
        payload = self.txn.get(key(index))
        if payload is None:
            raise IndexError(f"{self.path} has no record {index}")
        return decode(payload)

    def __iter__(self):
        for _, payload in self.txn.cursor():
            yield decode(payload)

    def close(self) -> None:
        self.txn.abort()
        self.env.close()
