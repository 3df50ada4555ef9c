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


def test_map_in_threads_nests_and_survives_a_fork(monkeypatch):
    """A map inside an item runs in that thread (waiting for the pool from inside it could wait
    for ever); a forked child, which has none of its parent's threads, starts its own pool."""
    import multiprocessing
    import os

    from regionenum.core import threads
    monkeypatch.setattr(threads, "idle_cpus", lambda: 2)
    inner = lambda i: threads.map_in_threads(lambda j: i * j, [1, 2, 3])  # noqa: E731
    assert threads.map_in_threads(inner, list(range(6))) == [[i, 2 * i, 3 * i] for i in range(6)]
    if not hasattr(os, "fork"):
        return
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_squares_in_threads, ()) == [i * i for i in range(8)]


def _squares_in_threads():
    from regionenum.core import threads
    threads.idle_cpus = lambda: 2  # (in the child only)
    return threads.map_in_threads(lambda i: i * i, list(range(8)))
