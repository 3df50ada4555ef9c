"""Thread counts that adapt to a busy machine: for BLAS, and for the package's own kernels.

The engine's matrix products run in the BLAS library's thread pool, one thread per core by
default. When other programs keep cores busy, a product split over every core waits for its
slowest thread, which may be descheduled: on two cores with one competing process a count ran
5 to 10 times slower than on a quiet machine instead of twice. :class:`AdaptiveBlas` therefore
gives the products as many threads as there are cores nobody else is using (at least one, and
never more than the limit in force when the run starts, so a caller's own ``threadpoolctl``
limit is respected), and looks again every ``interval`` seconds of a run.

Where the machine does not say how busy it is (no ``/proc``, as on Windows and macOS), the
thread count is left as it is.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["AdaptiveBlas", "busy_elsewhere", "idle_cpus", "map_in_threads", "one_blas_thread", "usable_cpus"]

_controller = None


def _threadpools():
    """One ``threadpoolctl.ThreadpoolController`` per process (finding the loaded libraries takes
    milliseconds)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    return _controller


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def one_blas_thread() -> None:
    """Limit this process's BLAS to one thread, for a worker among others that share the cores
    (small products split over threads that the other workers also want run many times
    slower)."""
    _threadpools().limit(limits=1, user_api="blas")


def map_in_threads(fn: Callable, items: list) -> list:
    """``[fn(item) for item in items]``, shared out among as many threads as the machine has
    idle cores (:func:`idle_cpus`; in this thread when that is one). Only work that releases the
    GIL gains: Numba kernels compiled with ``nogil``, large NumPy operations."""
    threads = min(idle_cpus(), len(items)) if len(items) > 1 else 1  # (looking costs ~0.1 ms)
    if threads == 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, items))


def idle_cpus() -> int:
    """The CPUs this process may run on that no other process is using right now (at least one;
    all of them where the system does not say how busy it is)."""
    return max(1, usable_cpus() - (busy_elsewhere() or 0))


def busy_elsewhere() -> int | None:
    """How many threads of other processes are running or waiting for a CPU right now (Linux:
    the running count of ``/proc/loadavg`` less this process's own running threads), or None
    where the system does not say."""
    try:
        running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
        own = 0
        for task in Path("/proc/self/task").iterdir():
            stat = (task / "stat").read_text()
            own += stat[stat.rindex(")") + 2] == "R"
    except (OSError, ValueError, IndexError):
        return None
    return max(running - own, 0)


class AdaptiveBlas:
    """Context manager for one run: sets the BLAS thread count to the idle cores on entry, again
    on :meth:`refresh` at most every ``interval`` seconds, and restores the original limit on
    exit."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self._original = None
        self._ceiling = 1
        self._threads = None
        self._checked = 0.0

    def __enter__(self) -> "AdaptiveBlas":
        if busy_elsewhere() is None:
            return self
        pools = _threadpools()
        blas = [info["num_threads"] for info in pools.info() if info["user_api"] == "blas"]
        if not blas:
            return self
        self._ceiling = max(1, min(min(blas), usable_cpus()))
        self._original = pools.limit(limits=min(blas), user_api="blas")  # remembers the limits
        self.refresh(force=True)
        return self

    def refresh(self, force: bool = False) -> None:
        """Look at the machine again (if ``interval`` has passed) and adjust the thread count."""
        if self._original is None:
            return
        now = time.perf_counter()
        if not force and now - self._checked < self.interval:
            return
        self._checked = now
        threads = min(self._ceiling, idle_cpus())
        if threads != self._threads:
            _threadpools().limit(limits=threads, user_api="blas")
            self._threads = threads

    def __exit__(self, *exc) -> None:
        if self._original is not None:
            self._original.restore_original_limits()
            self._original = None
            self._threads = None
