"""Test-only fault injection: make one shard task die as a crashed or preempted job would.

Python imports this module at start-up when its folder is on ``PYTHONPATH``, which the tests
(``conftest.fault_env``) set for the ``tc`` processes they start, and SLURM passes to the array
tasks. With ``TC_TEST_FAULT="<shard>"`` shard ``<shard>`` (of a build or a materialization)
kills its own process (SIGKILL) as it starts; with ``"<shard>:<n>"`` a materialization shard
dies after it has written ``n`` records. Production code knows nothing of it: the hooks wrap
``torchcell.graphdb.build._build_shard`` and ``torchcell.store.materialize.write_shard``.
"""

from __future__ import annotations

import os
import re
import signal

FAULT_ENV = "TC_TEST_FAULT"


def _planned(index: int) -> int | None:
    shard, _, after = os.environ[FAULT_ENV].partition(":")
    return int(after or 0) if int(shard) == index else None


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _install() -> None:
    from torchcell.graphdb import build
    from torchcell.store import materialize

    build_shard = build._build_shard

    def dying_build(build_dir, index, count, quarantine):
        if not (build.shard_dir(build_dir, index, count) / build.DONE).exists():
            if _planned(index) == 0:
                _die()
        return build_shard(build_dir, index, count, quarantine)

    write_shard = materialize.write_shard

    def dying_write(path, records):
        index = int(re.search(r"shard-(\d+)-of-", path.name).group(1))
        after = _planned(index)

        def counted():
            for written, record in enumerate(records):
                if after is not None and written == after:
                    _die()
                yield record

        return write_shard(path, counted())

    build._build_shard, materialize.write_shard = dying_build, dying_write


if os.environ.get(FAULT_ENV):
    _install()
