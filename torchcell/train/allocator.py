"""Keep freed CPU memory in the process for reuse, instead of giving it back to the kernel.

glibc serves every allocation above its mmap threshold (128 KiB, raised by itself to at most
32 MiB) with a fresh ``mmap`` and unmaps it on ``free``; the next allocation of that size
page-faults every page back in, each zero-filled by the kernel. A training step allocates and
frees the same large tensors every step: HeteroCell's perturbed encoder holds node states of
(N, B + 1, D), 235 MB each at batch 256 on the real E-MAP cell graph, and with glibc's defaults
a step on one CPU thread took 36 s, most of it in page faults (``torch.zeros`` of such a
tensor 0.14 s against 0.03 s into reused memory). ``keep_freed_memory`` raises both thresholds,
so freed blocks stay in the heap and are reused: the process keeps its peak resident memory,
which every step reaches anyway. ``benchmarks/train_step.py`` prints the ratio.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
LARGEST = 2**31 - 1  # mallopt takes an int: 2 GiB, above any one tensor of a step


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds to 2 GiB; False where the C library is not glibc
    (macOS, musl: their allocators keep their own policies) or refuses."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # glibc only: there the parameters mean the above
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGEST)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, LARGEST)
    )
