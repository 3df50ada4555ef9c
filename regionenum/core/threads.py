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

import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["AdaptiveBlas", "blas_on_one_thread", "busy_elsewhere", "idle_cpus", "loaded_blas_files", "map_in_threads",
           "one_blas_thread", "steady_idle_cpus", "usable_cpus"]

_controller = None


def _threadpools():
    """One ``threadpoolctl.ThreadpoolController`` per process (finding the loaded libraries takes
    milliseconds)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    return _controller


def loaded_blas_files() -> set:
    """The files of the BLAS libraries this process has loaded, as threadpoolctl finds them
    (resolved paths)."""
    return {Path(info["filepath"]).resolve() for info in _threadpools().info()
            if info["user_api"] == "blas" and info.get("filepath")}


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


def map_in_threads(fn: Callable, items: list, threads: int | None = None) -> list:
    """``[fn(item) for item in items]``, shared out among as many threads as the machine has
    idle cores (:func:`idle_cpus`; in this thread when that is one), or ``threads`` where
    given (a caller that has set other things by that number). Only work that releases the
    GIL gains: Numba kernels compiled with ``nogil``, large NumPy operations.

    The threads are started once per process and kept: starting two threads costs about a
    millisecond on some virtual machines, and the C allocator keeps each thread's freed memory
    for its next item where a new thread would fault in fresh pages.

    The threads take the items in order, one at a time, so that uneven items even out. Only
    pool threads that are free are asked (:func:`_start_helpers`): where they are busy (with
    another caller's items, or running the item that called this) the caller takes the items
    itself, and never waits for a helper that has not begun. It returns once every item begun
    has ended, whichever thread took it (:class:`_Items`), so an item's results and writes are
    all there. The first exception raised (in item order) is raised here; once one has failed,
    at most the items being taken at that moment are begun, so that a budget that stops one
    item stops them all within about one item's time."""
    threads = min(idle_cpus() if threads is None else threads, len(items)) if len(items) > 1 else 1
    if threads == 1:  # (looking at the machine costs ~0.1 ms)
        return [fn(item) for item in items]
    shared = _Items(fn, items)
    helpers = _start_helpers(shared.work, threads - 1)
    try:
        shared.work()  # this thread takes its share too
        shared.wait()
        for helper in helpers:  # one not begun yet is dropped; one begun has no item left (it ends
            if not helper.cancel():  # now, and so its thread is free for the next map)
                helper.result()
    except BaseException:  # Ctrl-C while working or waiting: the helpers stop after their current item
        shared.failed = True
        raise
    if shared.errors:
        raise shared.errors[min(shared.errors)]
    return shared.results


class _Items:
    """The items of one :func:`map_in_threads`, taken one at a time by the threads that run
    :meth:`work`: the next one, how many are being run, and whether one has failed.

    The caller waits for the items, not for the helpers it started: a helper whose thread
    failed to start (``submit`` raising after queueing it) may still be run by a pool thread
    later, and take an item while the caller works; and a helper begun after the items are
    all taken takes none."""

    def __init__(self, fn: Callable, items: list):
        self.fn, self.items = fn, items
        self.results, self.errors = [None] * len(items), {}
        self.next, self.running, self.failed = 0, 0, False
        self.ended = threading.Condition()

    def work(self) -> None:
        """Take items in order and run them until none is left or one has failed."""
        while True:
            with self.ended:
                if self.failed or self.next >= len(self.items):
                    return
                i, self.next = self.next, self.next + 1
                self.running += 1
            try:
                self.results[i] = self.fn(self.items[i])
            except BaseException as err:  # raised in the caller's thread
                self.errors[i] = err
                self.failed = True
            finally:
                with self.ended:
                    self.running -= 1
                    if not self.running:
                        self.ended.notify_all()

    def wait(self) -> None:
        """Return once no item is being run. Called after the caller's own :meth:`work`, when
        no item is left to begin (all taken, or one failed), so none begins after."""
        with self.ended:
            while self.running:
                self.ended.wait()


def _start_helpers(work: Callable, wanted: int) -> list:
    """The futures of up to ``wanted`` pool threads set to run ``work``, as many as are free. A
    busy thread is not queued for: a call queued behind a long item (a subtree of a long run,
    which calls maps of its own) waits there, even once cancelled, with ``work`` and every
    array its items reach, until that item ends; a ten-million-region count so kept the
    gathered pieces of every batch, 1.3 GB after ten minutes. A thread is busy while a helper
    started here has not ended (:data:`_helpers`); nothing is released when one ends, so an
    interrupt between a helper's start and its record only leaves the count low until the
    helper ends. The record's lock is only tried: a caller that finds it taken (another caller
    starting its helpers, or a lock an interrupt left held) starts none and is never stuck."""
    pool, size = _shared_pool()
    started = []
    if not _helpers_lock.acquire(blocking=False):
        return started
    try:
        _helpers[:] = [helper for helper in _helpers if not helper.done()]  # cancelled ones are done
        while len(started) < wanted and len(_helpers) < size:
            try:
                helper = pool.submit(work)
            except RuntimeError:  # the interpreter is exiting (its pools shut down): this thread alone
                break
            _helpers.append(helper)
            started.append(helper)
    finally:
        _helpers_lock.release()
    return started


_pool = None  # (the pool, its number of threads), made at the first map that wants threads
_helpers = []  # the futures of the helpers started on the pool and perhaps not yet ended
_helpers_lock = threading.Lock()


def _shared_pool() -> tuple:
    """The process's pool of threads, one fewer than the usable CPUs (the caller is one), and
    its number of threads."""
    global _pool
    if _pool is None:
        size = max(usable_cpus() - 1, 1)
        _pool = ThreadPoolExecutor(size, thread_name_prefix="regionenum"), size
    return _pool


def _forget_pool() -> None:
    """After a fork: the child has none of the parent's threads, so it starts its own pool,
    with a lock of its own (another thread may have held the parent's)."""
    global _pool, _helpers_lock
    _pool, _helpers_lock = None, threading.Lock()
    _helpers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def idle_cpus() -> int:
    """The CPUs this process may run on that no other process is using right now (at least one;
    all of them where the system does not say how busy it is)."""
    return max(1, usable_cpus() - (busy_elsewhere() or 0))


#: Readings :func:`steady_idle_cpus` takes at most, :data:`CONFIRM_GAP` seconds apart.
CONFIRM_READINGS = 4
CONFIRM_GAP = 0.001


def steady_idle_cpus() -> int:
    """:func:`idle_cpus` for a decision that holds for a long run (how many threads its subtrees
    get): a reading that finds CPUs busy is taken again, up to :data:`CONFIRM_READINGS` times
    :data:`CONFIRM_GAP` seconds apart, and the most idle reading counts. One reading is an
    instant: a process that ran for a moment, or a thread of this process that changed state
    between the two files read, made r2_big's count run on one thread on a quiet machine (1.72 s
    instead of 1.04-1.24 s, one start in twenty). A busy machine costs the run the few
    milliseconds of the readings."""
    busy = busy_elsewhere()
    for _ in range(CONFIRM_READINGS - 1):
        if not busy:  # nothing else running (0), or the system does not say (None)
            break
        time.sleep(CONFIRM_GAP)
        busy = min(busy, _read_busy() or 0)
    return max(1, usable_cpus() - (busy or 0))


#: A reading of :func:`busy_elsewhere` younger than this many seconds is used again: reading
#: ``/proc`` takes about 0.1 ms (a file per thread of this process), and a small enumeration
#: asks a dozen times within a few milliseconds, when the answer cannot have changed much.
FRESH_SECONDS = 0.02

_last_reading = (-float("inf"), None)  # (time, busy): replaced whole, so threads read it safely


def busy_elsewhere() -> int | None:
    """How many threads of other processes are running or waiting for a CPU right now (Linux:
    the running count of ``/proc/loadavg`` less this process's own running threads), or None
    where the system does not say; a reading less than :data:`FRESH_SECONDS` old is reused."""
    then, busy = _last_reading
    if time.monotonic() - then < FRESH_SECONDS:
        return busy
    return _read_busy()


def _read_busy() -> int | None:
    """A fresh reading for :func:`busy_elsewhere`, kept as its latest."""
    global _last_reading
    now = time.monotonic()
    try:
        running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
        own = 0
        for task in Path("/proc/self/task").iterdir():
            stat = (task / "stat").read_text()
            own += stat[stat.rindex(")") + 2] == "R"
        busy = max(running - own, 0)
    except (OSError, ValueError, IndexError):
        busy = None
    _last_reading = (now, busy)
    return busy


class _BlasRuns:
    """The runs of this process that set BLAS thread counts, which may be several at once (calls
    from several threads of a program): the limit in force when the first began is kept and
    restored when the last ends (each restoring what it found would leave a later run's count
    behind), and while any run holds BLAS at one thread (:func:`blas_on_one_thread`: its own
    threads are the parallelism), the others' counts stay at one; when the last such run ends,
    they get back the count last asked for (a run's own count is set only when it changes).

    Every change is made under one lock, from whichever thread the run is in. threadpoolctl
    (from 3.8) lets one thread at a time set OpenBLAS's process-wide pool, the first to set it,
    until that thread's paired limits end, and ignores the others; so each change here takes
    control and hands it back (:func:`_blas_control`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.runs = 0
        self.single = 0  # runs holding one thread
        self.original = None  # threadpoolctl's record of the limits found by the first run
        self.found = 1  # the lowest BLAS thread count then
        self.asked = None  # the count last asked for (:meth:`ask`), None before any

    def enter(self, single: bool = False) -> bool:
        """Count a run in; False where there is no BLAS pool to set (nothing is then done)."""
        with self.lock, _blas_control():
            if self.runs == 0:
                pools = _threadpools()
                blas = [info["num_threads"] for info in pools.info() if info["user_api"] == "blas"]
                if not blas:
                    return False
                self.found = min(blas)
                self.original = pools.limit(limits=self.found, user_api="blas")
            self.runs += 1
            self.single += single
            if single:
                _threadpools().limit(limits=1, user_api="blas")
            return True

    def leave(self, single: bool = False) -> None:
        """Count a run out; the last restores the limits the first found."""
        with self.lock, _blas_control():
            self.runs -= 1
            self.single -= single
            if self.runs == 0:
                self.original.restore_original_limits()
                self.original, self.asked = None, None
            elif single and not self.single:  # the other runs get back the count they asked for
                _threadpools().limit(limits=self.asked or self.found, user_api="blas")

    def wanted(self, threads: int) -> int:
        """The count a run that wants ``threads`` gets: one while a run holds one."""
        return 1 if self.single else threads

    def ask(self, threads: int) -> int:
        """A run wants ``threads``: recorded as the count to give back when the runs holding one
        thread end; the count it gets now (:meth:`wanted`)."""
        with self.lock:
            self.asked = threads
            return self.wanted(threads)

    def set(self, threads: int) -> int:
        """Set the count to ``threads`` (one while a run holds one); the count set."""
        with self.lock, _blas_control():
            threads = self.wanted(threads)
            _threadpools().limit(limits=threads, user_api="blas")
            return threads


@contextlib.contextmanager
def _blas_control():
    """Inside, this thread may set OpenBLAS's thread count: threadpoolctl's record of the thread
    that controls it (from version 3.8) is cleared on entry and on exit. The caller holds
    :class:`_BlasRuns`'s lock, so no other run sets it meanwhile."""
    clear = _clear_blas_control()
    clear()
    try:
        yield
    finally:
        clear()


@functools.cache
def _clear_blas_control() -> Callable:
    """threadpoolctl's clearing of the thread that controls OpenBLAS, forced; before 3.8, where
    any thread sets it, a function that does nothing."""
    try:
        from threadpoolctl import OpenBLASController
        clear = OpenBLASController.clear_controlling_thread
    except (ImportError, AttributeError):
        return lambda: None
    return functools.partial(clear, force=True)


_blas_runs = _BlasRuns()


@contextlib.contextmanager
def blas_on_one_thread():
    """Context manager: BLAS at one thread while inside, for a run whose own threads share the
    cores (two pools of two BLAS threads on two cores ran many times slower); concurrent runs
    of the process keep to one as long as any is inside, and the limit found before is restored
    when the last run ends."""
    entered = _blas_runs.enter(single=True)
    try:
        yield
    finally:
        if entered:
            _blas_runs.leave(single=True)


class AdaptiveBlas:
    """Context manager for one run: sets the BLAS thread count to the idle cores on entry, again
    on :meth:`refresh` at most every ``interval`` seconds (never above the limit in force when
    the process's runs began, and one while a run holds one, :func:`blas_on_one_thread`); the
    last of the process's concurrent runs to end restores that limit."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self._entered = False
        self._ceiling = 1
        self._threads = None
        self._checked = 0.0

    def __enter__(self) -> "AdaptiveBlas":
        if busy_elsewhere() is None or not _blas_runs.enter():
            return self
        self._entered = True
        self._ceiling = max(1, min(_blas_runs.found, usable_cpus()))
        self.refresh(force=True)
        return self

    def refresh(self, force: bool = False) -> None:
        """Look at the machine again (if ``interval`` has passed) and adjust the thread count."""
        if not self._entered:
            return
        now = time.perf_counter()
        if not force and now - self._checked < self.interval:
            return
        self._checked = now
        threads = _blas_runs.ask(min(self._ceiling, idle_cpus()))
        if threads != self._threads:  # (after a run held one thread, the count goes up again)
            self._threads = _blas_runs.set(threads)

    def __exit__(self, *exc) -> None:
        if self._entered:
            _blas_runs.leave()
            self._entered = False
            self._threads = None
