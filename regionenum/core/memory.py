"""Handing freed memory back to the operating system.

glibc's allocator keeps the memory of freed small and medium blocks (a run's batches of cells
are arrays of a few hundred kilobytes each) in its heap for reuse, so a process's resident size
does not fall when they are freed, and arrays allocated next (the gathered regions, hundreds of
megabytes, mapped separately) come on top of it. :func:`release_free_memory` asks glibc to
return what it holds free (``malloc_trim``); it changes none of the allocator's settings.
Elsewhere (macOS, musl, Windows) it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools

__all__ = ["release_free_memory"]


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release_free_memory() -> None:
    """Return the C heap's free memory to the operating system, where the C library can."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
