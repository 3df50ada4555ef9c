"""How a process's memory serves the runs: the C heap's freed memory kept for reuse by the next
batches and runs, handed back before a result's large arrays are gathered; and NumPy's arrays
on small pages where huge ones are slow to come.

A run allocates and frees arrays of a few to tens of megabytes batch after batch (the next
layer's rows, the children's cells). glibc maps each array above its ``mmap`` threshold
(128 kB, rising to at most 32 MB as such arrays are freed) separately and unmaps it when freed,
and returns the free top of its heap to the system beyond its trim threshold, so the next batch
faults the same amount of fresh pages in again, each zeroed by the kernel. On virtual machines
that hand freed guest memory back to their host (free page reporting, balloons), a page faulted
in again costs microseconds (r2_big's count: 0.36-0.47 s of system time for 120,000-170,000
faults a call): on such a machine, calls after a process's first count
took 0.58-0.90 times as long with the memory kept, where their arrays had been mapped
(``benchmarks/README.md``, "Freed memory kept for reuse").
:func:`keep_freed_memory` therefore sets, once per process, both thresholds so that arrays up
to 32 MB come from the heap and up to 64 MB of free memory at the heap's top is kept for reuse
(glibc's own thresholds reach these values at most, and only after such arrays have been freed;
a run's peak memory is the same, the process keeps up to that much after it for its next run).

:func:`release_free_memory` does the opposite where it pays: while a result's arrays of
hundreds of megabytes are gathered (a step of batches at a time, each step's batches freed), it
asks glibc to return what it holds free (``malloc_trim``, whatever the thresholds), or they
would come on top of the freed batches.

These two act on glibc only; elsewhere (macOS, musl, Windows) they do nothing.

:func:`small_pages_where_freed_memory_is_reported` concerns the pages themselves: NumPy asks
Linux for transparent huge pages (2 MB) for every array of 4 MB or more (``madvise``). A huge
page needs a free block of 2 MB, and on a virtual machine whose memory balloon reports free
memory to its host (virtio's free page reporting) such blocks are the ones reported, which the
host takes back: in some hours each huge page faulted in then costs milliseconds of system
time. On such a machine a fresh 480 MB array took 1.0-3.7 s to fill with huge pages against
0.21-0.29 s with small ones, and in those hours the first enumeration of r4_small in a process
took 6.3-8.0 s (3.8-5.4 s of it system time) against 4.2-4.8 s (``benchmarks/README.md``,
"Small pages where free memory is reported"). There, once per process, NumPy's request is
turned off; elsewhere huge pages are left to NumPy.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import importlib
import os
import warnings
from pathlib import Path

__all__ = ["MALLOC_VARIABLES", "MMAP_THRESHOLD", "NUMPY_HUGEPAGE_VARIABLE", "TRIM_THRESHOLD", "VIRTIO_DEVICES",
           "free_memory_is_reported", "keep_freed_memory", "release_free_memory",
           "small_pages_where_freed_memory_is_reported"]

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
#: Where Linux lists virtio devices; a memory balloon's device id there, and the bit of its
#: feature string that says it reports free pages (``VIRTIO_BALLOON_F_REPORTING``).
VIRTIO_DEVICES = Path("/sys/bus/virtio/devices")
_BALLOON, _REPORTING = "0x0005", 5
#: NumPy's environment variable for its huge page requests: whoever sets it has chosen.
NUMPY_HUGEPAGE_VARIABLE = "NUMPY_MADVISE_HUGEPAGE"


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


def free_memory_is_reported(devices: Path = VIRTIO_DEVICES) -> bool:
    """Whether this machine has a virtio memory balloon that reports free pages to its host
    (its feature string, a character per bit, has ``VIRTIO_BALLOON_F_REPORTING`` set)."""
    try:
        listed = list(devices.iterdir())
    except OSError:  # not Linux, or no virtio devices
        return False
    for device in listed:
        try:
            if (device / "device").read_text().strip() == _BALLOON:
                features = (device / "features").read_text().strip()
                if features[_REPORTING: _REPORTING + 1] == "1":
                    return True
        except (OSError, ValueError):  # unreadable, or not text
            continue
    return False


def _numpy_hugepage_switch():
    """NumPy's switch for its huge page requests (``_set_madvise_hugepage``, which returns the
    previous setting), or None where this NumPy has none."""
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):  # NumPy 2, then 1
        try:
            with warnings.catch_warnings():  # a deprecated path must not stop a run (-W error)
                warnings.simplefilter("ignore")
                return importlib.import_module(module)._set_madvise_hugepage
        except (ImportError, AttributeError):
            continue
    return None


@functools.cache
def small_pages_where_freed_memory_is_reported() -> bool:
    """Turn off NumPy's requests for transparent huge pages where freed memory goes back to the
    host (:func:`free_memory_is_reported`; see the module's description). Done once per process,
    and not at all where ``NUMPY_MADVISE_HUGEPAGE`` is set (the caller's choice). Returns whether
    the setting was made."""
    switch = _numpy_hugepage_switch()
    if switch is None or NUMPY_HUGEPAGE_VARIABLE in os.environ or not free_memory_is_reported():
        return False
    switch(False)
    return True
