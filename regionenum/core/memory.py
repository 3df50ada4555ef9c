"""The C heap's handling of freed memory: kept for reuse by the next batches and runs, handed back
before a result's large arrays are gathered.

A run allocates and frees arrays of a few to tens of megabytes batch after batch (the next
layer's rows, the children's cells). glibc maps each array above its ``mmap`` threshold
(128 kB, rising to at most 32 MB as such arrays are freed) separately and unmaps it when freed,
and returns the free top of its heap to the system beyond its trim threshold, so the next batch
faults the same amount of fresh pages in again, each zeroed by the kernel. On virtual machines
that hand freed guest memory back to their host (free page reporting, balloons), a page faulted
in again can cost tens of microseconds: on such a machine, calls after a process's first count
took 0.58-0.90 times as long with the memory kept, where their arrays had been mapped
(``benchmarks/README.md``, "Freed memory kept for reuse").
:func:`keep_freed_memory` therefore sets, once per process, both thresholds so that arrays up
to 32 MB come from the heap and up to 64 MB of free memory at the heap's top is kept for reuse
(glibc's own thresholds reach these values at most, and only after such arrays have been freed;
a run's peak memory is the same, the process keeps up to that much after it for its next run).

:func:`release_free_memory` does the opposite where it pays: before a result's arrays of
hundreds of megabytes are gathered, it asks glibc to return what it holds free (``malloc_trim``,
whatever the thresholds), or they would come on top of the freed batches.

Both act on glibc only; elsewhere (macOS, musl, Windows) they do nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

__all__ = ["MALLOC_VARIABLES", "MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory", "release_free_memory"]

#: Arrays up to this size come from the C heap (glibc's largest ``M_MMAP_THRESHOLD`` on 64-bit
#: systems, the most its dynamic threshold reaches): a run's batches reuse each other's memory.
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the C heap beyond this goes back to the system (glibc's
#: ``M_TRIM_THRESHOLD``; twice the mmap threshold, as glibc's dynamic one). With 256 MB, calls
#: after the first kept a little more of their memory, but enumerations that keep their cells
#: peaked higher from the second call on (r2_big 520 MB against 430).
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)
#: glibc's environment variables for the same settings: whoever sets one has tuned malloc.
MALLOC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


@functools.cache
def _libc_function(name: str):
    """The C library's function ``name``, or None where it has none (not glibc)."""
    lib = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(lib), name, None) if lib else None
    except OSError:
        return None


def _caller_tuned_malloc() -> bool:
    """Whether this process's malloc was tuned by whoever started it (glibc's environment
    variables), whose settings are then left as they are."""
    return (any(os.environ.get(name) for name in MALLOC_VARIABLES)
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""))


@functools.cache
def keep_freed_memory() -> bool:
    """Have glibc keep freed memory for reuse (see the module's description): arrays up to
    :data:`MMAP_THRESHOLD` from the heap, up to :data:`TRIM_THRESHOLD` of free heap kept. Done
    once per process (the settings are the process's, and glibc has no way to read them back),
    and not at all where the process's malloc was tuned through glibc's environment variables
    (:data:`MALLOC_VARIABLES`, or ``GLIBC_TUNABLES`` with ``glibc.malloc.*``). Returns whether
    the settings were made."""
    mallopt = _libc_function("mallopt")
    if mallopt is None or _caller_tuned_malloc():
        return False
    # mmap threshold first: glibc refuses values beyond its limit (on 32-bit systems), and the
    # trim threshold alone would only stop the dynamic thresholds
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def release_free_memory() -> None:
    """Return the C heap's free memory to the operating system, where the C library can."""
    trim = _libc_function("malloc_trim")
    if trim is not None:
        trim(0)
