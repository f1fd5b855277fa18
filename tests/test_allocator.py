"""``keep_freed_memory``: freed large blocks stay in the process and are reused."""

from __future__ import annotations

import subprocess
import sys

import pytest

# in a fresh interpreter: the setting is per process, and other tests' training applies it
SCRIPT = """
import resource, torch
from torchcell.train.allocator import keep_freed_memory

def faults_of_a_reallocated_block():
    torch.empty(16 * 2**20).fill_(1.0)  # 64 MiB, written, then freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.empty(16 * 2**20).fill_(1.0)  # the same size again
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

default = [faults_of_a_reallocated_block() for _ in range(8)]
applied = keep_freed_memory()
kept = [faults_of_a_reallocated_block() for _ in range(8)]  # as the steps of a training run
print(min(default), applied, max(kept[-3:]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_keep_freed_memory_reuses_freed_blocks_instead_of_faulting_them_in_again():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    default, applied, kept = out.stdout.split()
    # glibc's default: the 64 MiB block is unmapped on free; its 16,384 pages fault in again,
    # every time
    assert int(default) > 10_000 and applied == "True"
    assert int(kept) < 1_000  # once the heap has grown to the size, the freed block is reused
