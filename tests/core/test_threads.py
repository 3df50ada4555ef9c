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
