"""BLAS thread counts that follow the idle cores."""
import pytest


def test_blas_threads_follow_the_idle_cores(monkeypatch):
    from regionenum.core import threads
    pools = pytest.importorskip("threadpoolctl").ThreadpoolController()
    if not any(i["user_api"] == "blas" for i in pools.info()) or threads.busy_elsewhere() is None:
        pytest.skip("no BLAS thread pool, or the system does not report its load")
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    with pools.limit(limits=4, user_api="blas"):
        for busy, expected in ((0, 4), (1, 3), (3, 1), (9, 1)):
            monkeypatch.setattr(threads, "busy_elsewhere", lambda busy=busy: busy)
            with threads.AdaptiveBlas():
                assert min(i["num_threads"] for i in pools.info() if i["user_api"] == "blas") == expected
            assert min(i["num_threads"] for i in pools.info() if i["user_api"] == "blas") == 4
        with pools.limit(limits=1, user_api="blas"):  # a caller's own limit is a ceiling
            monkeypatch.setattr(threads, "busy_elsewhere", lambda: 0)
            with threads.AdaptiveBlas():
                assert max(i["num_threads"] for i in pools.info() if i["user_api"] == "blas") == 1


def test_map_in_threads_keeps_the_items_order_and_shares_them(monkeypatch):
    import threading
    import time

    from regionenum.core import threads
    monkeypatch.setattr(threads, "idle_cpus", lambda: 2)
    who = {}

    def slow_square(i):
        who[i] = threading.get_ident()
        time.sleep(0.01)
        return i * i

    assert threads.map_in_threads(slow_square, list(range(20))) == [i * i for i in range(20)]
    assert len(set(who.values())) == 2  # the caller and a pool thread both took items
    assert threads.map_in_threads(slow_square, [3]) == [9] and threads.map_in_threads(slow_square, []) == []


def test_map_in_threads_raises_the_first_error_and_begins_nothing_after_it(monkeypatch):
    import time

    from regionenum.core import threads
    monkeypatch.setattr(threads, "idle_cpus", lambda: 2)
    begun = []

    def item(i):
        begun.append(i)
        if i == 1:
            time.sleep(0.05)
            raise ValueError("1")
        if i == 2:
            raise KeyError("2")
        time.sleep(0.02)
        return i

    with pytest.raises(ValueError, match="1"):  # item 2 failed first, item 1 comes first
        threads.map_in_threads(item, list(range(50)))
    assert max(begun) <= 4 and len(begun) <= 5  # no item begun once one had failed


def test_map_in_threads_nests_and_never_waits_for_others_work(monkeypatch):
    """A map whose pool thread is busy (running the item the map is called from, or another
    caller's items) does its items itself instead of waiting for it: nested maps end, and a
    quick map beside a long one is quick."""
    import threading
    import time

    from regionenum.core import threads
    monkeypatch.setattr(threads, "idle_cpus", lambda: 2)

    def inner(i):
        return threads.map_in_threads(lambda j: i * j, [1, 2, 3])

    def in_a_thread(fn, seconds=60):
        out = []
        runner = threading.Thread(target=lambda: out.append(fn()), daemon=True)
        runner.start()
        runner.join(seconds)
        assert out, "did not finish: waiting for the pool from inside it?"
        return out[0]

    expected = [[i, 2 * i, 3 * i] for i in range(6)]
    assert in_a_thread(lambda: threads.map_in_threads(inner, list(range(6)))) == expected

    def slow(i):
        time.sleep(0.3)
        return i

    busy = threading.Thread(target=lambda: threads.map_in_threads(slow, list(range(10))), daemon=True)
    busy.start()  # the caller and the pool thread each sleep through about five items
    time.sleep(0.1)
    start = time.perf_counter()
    assert threads.map_in_threads(lambda i: -i, [1, 2]) == [-1, -2]
    assert time.perf_counter() - start < 0.5  # not the busy map's remaining 1.5 s
    busy.join()


def test_map_in_threads_queues_nothing_behind_a_busy_thread(monkeypatch):
    """A map called while the pool's thread runs a long item (a subtree of a long run, whose
    batches call maps of their own) does its items itself and leaves no call queued for that
    thread: a queued call, even once cancelled, would hold the map's items and everything they
    reach (a batch's arrays) until the long item ends. Either thread may take either item."""
    import gc
    import threading
    import weakref

    from regionenum.core import threads
    monkeypatch.setattr(threads, "idle_cpus", lambda: 2)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)  # a pool of one thread, of its own
    monkeypatch.setattr(threads, "_pool", None)
    checked, found = threading.Event(), {}

    class Batch:  # stands for a batch's arrays
        pass

    def inner_map():
        batch = Batch()
        assert threads.map_in_threads(lambda i: i + (batch is not None), [0, 1, 2]) == [1, 2, 3]
        return weakref.ref(batch)

    def item(i):
        if i == 0:  # the long item: runs until the other has looked
            assert checked.wait(30)
            return "long"
        try:
            batch = inner_map()
            gc.collect()
            found["kept"] = batch() is not None
        finally:
            checked.set()
        return "looked"

    assert threads.map_in_threads(item, [0, 1]) == ["long", "looked"]
    assert found == {"kept": False}
    assert threads.map_in_threads(lambda i: -i, [1, 2]) == [-1, -2]  # the pool is free again


def test_map_in_threads_waits_for_an_item_taken_by_a_helper_whose_start_failed(monkeypatch):
    """``submit`` may queue a helper and then raise (its thread could not be started); a thread
    of the pool may still run it later, while the map goes on, and it takes an item. The map
    returns once that item has ended too, with its result: not as soon as the items are all
    taken, with an item still running (whose writes the caller would read half done)."""
    import threading
    import time

    from regionenum.core import threads
    monkeypatch.setattr(threads, "idle_cpus", lambda: 2)
    late = []

    class Pool:  # queues the call, which another thread runs 0.05 s later, and raises as no thread started
        def submit(self, work):
            runner = threading.Thread(target=lambda: (time.sleep(0.05), work()), daemon=True)
            late.append(runner)
            runner.start()
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threads, "_shared_pool", lambda: (Pool(), 1))
    ended = []

    def item(i):  # the caller takes 0 and 2, the late helper 1 and 3 (ending last)
        time.sleep(0.3)
        ended.append(i)
        return i

    assert threads.map_in_threads(item, list(range(4))) == [0, 1, 2, 3]
    assert sorted(ended) == [0, 1, 2, 3]
    for runner in late:
        runner.join(10)


def test_map_in_threads_raises_ctrl_c_from_an_item(monkeypatch):
    from regionenum.core import threads
    monkeypatch.setattr(threads, "idle_cpus", lambda: 2)

    def item(i):
        if i == 3:
            raise KeyboardInterrupt
        return i

    with pytest.raises(KeyboardInterrupt):
        threads.map_in_threads(item, list(range(8)))
    assert threads.map_in_threads(item, [0, 1]) == [0, 1]  # the pool still works


def test_map_in_threads_survives_a_fork():
    """A forked child, which has none of its parent's threads, starts its own pool (in a fresh
    interpreter, so that a hang fails the test instead of stopping the run)."""
    import os
    import subprocess
    import sys
    import textwrap
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this system")
    script = textwrap.dedent("""
        import multiprocessing, threading, time
        from regionenum.core import threads
        threads.idle_cpus = lambda: 2
        def squares():
            def square(i):
                time.sleep(0.02)
                return i * i, threading.get_ident()
            out = threads.map_in_threads(square, list(range(8)))
            return [x for x, _ in out], len({t for _, t in out})
        if __name__ == "__main__":
            assert squares() == ([i * i for i in range(8)], 2)  # the parent's pool exists
            with multiprocessing.get_context("fork").Pool(1) as pool:
                print(pool.apply(squares, ()))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(([i * i for i in range(8)], 2))  # the child's own pool took items


def test_busy_elsewhere_reads_the_machine_at_most_once_per_fresh_interval(monkeypatch):
    from regionenum.core import threads
    if threads.busy_elsewhere() is None:
        pytest.skip("the system does not report its load")
    reads = []
    real_path = threads.Path

    def counting_path(name):
        reads.append(str(name))
        return real_path(name)

    clock = [1000.0]
    monkeypatch.setattr(threads, "Path", counting_path)
    monkeypatch.setattr(threads.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(threads, "_last_reading", (-float("inf"), None))
    first = threads.busy_elsewhere()
    assert reads and isinstance(first, int) and first >= 0
    n = len(reads)
    clock[0] += threads.FRESH_SECONDS / 2
    assert threads.busy_elsewhere() == first and len(reads) == n  # reused, not read again
    clock[0] += threads.FRESH_SECONDS
    assert isinstance(threads.busy_elsewhere(), int) and len(reads) > n  # stale: read again


def test_concurrent_runs_restore_the_blas_limit_they_found(monkeypatch):
    """Runs from several threads of a program overlap: one holding BLAS at one thread while
    another adapts, in any order of entering and leaving. The last to end restores the limit the
    first found; while one holds one thread, the other's count stays at one."""
    from regionenum.core import threads
    pools = pytest.importorskip("threadpoolctl").ThreadpoolController()
    if not any(i["user_api"] == "blas" for i in pools.info()) or threads.busy_elsewhere() is None:
        pytest.skip("no BLAS thread pool, or the system does not report its load")
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 0)

    def blas():
        return min(i["num_threads"] for i in pools.info() if i["user_api"] == "blas")

    with pools.limit(limits=3, user_api="blas"):
        one = threads.blas_on_one_thread()
        one.__enter__()
        adaptive = threads.AdaptiveBlas().__enter__()
        assert blas() == 1  # held at one by the first run
        one.__exit__(None, None, None)  # the first run ends before the second
        adaptive.refresh(force=True)
        assert blas() == 3  # the second adapts again, up to the limit found
        adaptive.__exit__(None, None, None)
        assert blas() == 3
        with threads.AdaptiveBlas(), threads.blas_on_one_thread():
            assert blas() == 1
        assert blas() == 3
        with threads.AdaptiveBlas() as adaptive:  # entered first, then one run holds one thread
            with threads.blas_on_one_thread():
                adaptive.refresh(force=True)
                assert blas() == 1
            adaptive.refresh(force=True)
            assert blas() == 3  # and up again once it has left
        assert blas() == 3
        with threads.AdaptiveBlas():  # a run that does not look again before the other leaves
            with threads.blas_on_one_thread():  # (the engine's norm certificates at a run's start)
                assert blas() == 1
            assert blas() == 3  # gets its count back all the same
        assert blas() == 3
        with threads.AdaptiveBlas() as adaptive:
            with threads.blas_on_one_thread():
                adaptive.refresh(force=True)  # it looks again while the other holds one thread
            assert blas() == 3  # and still gets its own count back, not the one it had then
        assert blas() == 3


def test_blas_is_set_from_any_thread():
    """threadpoolctl (from 3.8) lets only the first thread that sets OpenBLAS's count set it
    until its limits end; a run in another thread still gets its one thread, and leaves the
    count as it found it."""
    import threading

    from regionenum.core import threads
    pools = pytest.importorskip("threadpoolctl").ThreadpoolController()
    if not any(i["user_api"] == "blas" for i in pools.info()):
        pytest.skip("no BLAS thread pool")

    def blas():
        return min(i["num_threads"] for i in pools.info() if i["user_api"] == "blas")

    seen = []

    def run():
        with threads.blas_on_one_thread():
            seen.append(blas())
        seen.append(blas())

    with pools.limit(limits=2, user_api="blas"):  # the main thread sets it first
        for _ in range(3):
            other = threading.Thread(target=run)
            other.start()
            other.join()
        assert seen == [1, 2] * 3 and blas() == 2


def test_concurrent_calls_leave_blas_as_they_found_it(monkeypatch):
    """Two threads of a program count at once, again and again, each call cut into subtrees:
    the counts are right, and BLAS is left at the limit found (the orders of entering and
    leaving are the test above's; here they come as the threads happen to run)."""
    import threading
    import time

    import regionenum as rn
    from regionenum.core import threads
    from tests.oracles import random_net
    pools = pytest.importorskip("threadpoolctl").ThreadpoolController()
    if not any(i["user_api"] == "blas" for i in pools.info()) or threads.busy_elsewhere() is None:
        pytest.skip("no BLAS thread pool, or the system does not report its load")
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 0)  # every core idle: runs are cut
    net, box = random_net([2, 64, 64, 64, 1], 0), rn.Box([-1, -1], [1, 1])
    expected = int(rn.count_regions(net, box))
    with pools.limit(limits=2, user_api="blas"):
        counts = []
        for _ in range(10):
            calls = [threading.Thread(target=lambda: counts.append(int(rn.count_regions(net, box))))
                     for _ in range(2)]
            for call in calls:
                call.start()
                time.sleep(0.001)  # the first call is in its subtrees when the second begins
            for call in calls:
                call.join()
            assert min(i["num_threads"] for i in pools.info() if i["user_api"] == "blas") == 2
        assert counts == [expected] * 20


@pytest.mark.parametrize("readings, idle, taken", [
    ([0], 4, 1),  # nothing else running: one reading
    ([None], 4, 1),  # the system does not say: all CPUs
    ([2, 2, 0], 4, 3),  # a moment's process: the idle reading counts
    ([3, 1, 2, 2], 3, 4),  # busy throughout: the most idle of the readings
    ([9, 9, 9, 9, 0], 1, 4),  # never fewer than one CPU, and no more readings than allowed
])
def test_steady_idle_cpus_confirms_a_busy_reading(readings, idle, taken, monkeypatch):
    """A reading that finds CPUs busy is taken again, a few times, and the most idle counts."""
    from regionenum.core import threads
    seen = iter(readings)
    taken_readings = []

    def reading():
        taken_readings.append(1)
        return next(seen)

    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    monkeypatch.setattr(threads, "busy_elsewhere", reading)
    monkeypatch.setattr(threads, "_read_busy", reading)
    monkeypatch.setattr(threads, "CONFIRM_GAP", 0.0)
    assert threads.steady_idle_cpus() == idle
    assert len(taken_readings) == taken
