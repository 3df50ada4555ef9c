"""The engine's compiled kernels (Numba), and a clock for the time they take to compile.

- :mod:`.splitting`: split polyhedral cells by hyperplanes (vertices with incidence);
- :mod:`.crossings`: how many hyperplanes cut the worst cell of a batch (for staging);
- :mod:`.rows`: the next layer's hyperplane rows of a batch of cells, and bounds on their errors;
- :mod:`.two_part`: rows cut into slices for exact products, and sums in two parts (deep networks);
- :mod:`.breakpoints`: proven signs and roots at the breakpoints of a count on one input;
- :mod:`.lattice`: face lattices, facets, face names and volumes of finished cells;
- :mod:`.grouping`: equal 64-bit values (the faces' names' hashes) grouped by a hash table;
- :mod:`.blocks`: copy cells' blocks of rows between CSR arrays (gathering finished cells);
- :mod:`.equations`: facet equations of unit normal from the cells' constraint rows;
- :mod:`.error_free`: sums and products as a rounded value and its exact error (TwoSum, Dekker);
- :mod:`.simplex`: small linear programmes by the dual simplex method (one, or many at once);
- :mod:`.moments`: volumes and moments of a complex's top cells from their flags' simplices.

Kernels take and return flat numpy arrays in named groups, never call back into Python, and
return the sign questions float64 cannot settle instead of answering them. Each compiles on its
first call in a machine's lifetime (Numba's cache keeps it for later processes); a process pays
that once, and :class:`KernelClock` measures it so that reported run times leave it out.
"""
from __future__ import annotations

import logging
import time
from contextlib import ExitStack

import scipy.linalg  # noqa: F401  (Numba binds BLAS through it when it loads the first kernel)
from numba.core import event

__all__ = ["KernelClock"]

log = logging.getLogger("regionenum")

#: Called once per process, with no argument, when a regionenum kernel starts compiling for the
#: first time (the command line sets it to say so on the terminal).
on_first_compile = None

_first_compile_seen = False


class _LockTimer(event.Listener):
    """The seconds spent holding Numba's compiler lock (compiling, or loading a compiled kernel
    from the cache), counted once for nested acquisitions."""

    def __init__(self):
        self.depth = 0
        self.since = 0.0
        self.seconds = 0.0

    def on_start(self, ev):
        if self.depth == 0:
            self.since = time.perf_counter()
        self.depth += 1

    def on_end(self, ev):
        self.depth -= 1
        if self.depth == 0:
            self.seconds += time.perf_counter() - self.since


class _FirstCompile(event.Listener):
    """Says once per process that regionenum's kernels are being compiled."""

    def on_start(self, ev):
        global _first_compile_seen
        if _first_compile_seen:
            return
        dispatcher = (ev.data or {}).get("dispatcher")
        module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
        if module.startswith("regionenum"):
            _first_compile_seen = True
            log.info("compiling regionenum's kernels for this machine (once; later runs load them "
                     "from Numba's cache)")
            if on_first_compile is not None:
                on_first_compile()

    def on_end(self, ev):
        pass


class KernelClock:
    """Context manager: ``seconds`` spent compiling or loading kernels inside the block (in this
    thread's calls)."""

    def __init__(self):
        self.seconds = 0.0
        self._stack = None

    def __enter__(self) -> "KernelClock":
        self._timer = _LockTimer()
        self._stack = ExitStack()
        self._stack.enter_context(event.install_listener("numba:compiler_lock", self._timer))
        self._stack.enter_context(event.install_listener("numba:compile", _FirstCompile()))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()
        self.seconds = self._timer.seconds
