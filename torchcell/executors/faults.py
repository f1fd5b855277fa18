"""An injected fault for tests: make one shard task die as a crashed or preempted job would.

``TC_TEST_FAULT="<shard>"`` kills shard ``<shard>``'s process (SIGKILL) when it starts;
``"<shard>:<n>"`` kills it after it has written ``n`` records (where a stage counts records).
Unset in normal use.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "TC_TEST_FAULT"


def planned_fault(index: int) -> int | None:
    """After how many records shard ``index`` must die (0: at once), or None."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return None
    shard, _, after = spec.partition(":")
    return int(after or 0) if int(shard) == index else None


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def die_at_start(index: int) -> None:
    if planned_fault(index) == 0:
        die()
