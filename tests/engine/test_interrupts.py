"""Ctrl-C and time limits stop a run cleanly at any moment, even inside long splits in high
dimensions, and domains beyond the vertex representation are refused before any work."""
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import regionenum as rn
from regionenum.engine.driver import is_interrupt
from regionenum.engine.polytope_step import MAX_DIM

#: A 7-input net whose first layer alone cuts the cube into hundreds of thousands of regions:
#: its root cell is split in stages, each a long kernel call.
HEAVY = textwrap.dedent("""
    import numpy as np, regionenum as rn, sys
    rng = np.random.default_rng(0)
    net = rn.Network.from_layers([(rng.normal(size=(24, 7)), 0.1 * rng.normal(size=24)),
                                  (rng.normal(size=(1, 24)), np.zeros(1))])
    box = rn.Box(-np.ones(7), np.ones(7))
    print("started", flush=True)
    result = getattr(rn, sys.argv[1])(net, box)
    print(result.stop_reason if hasattr(result, "stop_reason") else "?", flush=True)
""")


@pytest.mark.parametrize("delay", [0.2, 0.5, 2.0])
@pytest.mark.parametrize("call", ["count_regions", "enumerate_regions"])
def test_sigint_at_any_moment_gives_an_interrupted_result(call, delay):
    run = subprocess.Popen([sys.executable, "-c", HEAVY, call], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    assert run.stdout.readline().strip() == "started"
    time.sleep(delay)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err  # no traceback, no SystemError, no crash
    assert out.strip() == "interrupted"


def test_time_limit_is_honoured_inside_long_splits():
    rng = np.random.default_rng(0)
    net = rn.Network.from_layers([(rng.normal(size=(24, 7)), 0.1 * rng.normal(size=24)),
                                  (rng.normal(size=(1, 24)), np.zeros(1))])
    start = time.perf_counter()
    count = rn.count_regions(net, rn.Box(-np.ones(7), np.ones(7)), time_limit=0.5)
    assert not count.complete and count.stop_reason == "time_limit"
    assert time.perf_counter() - start < 60  # not the minutes the whole count takes


def test_domains_beyond_the_vertex_representation_are_refused_at_once():
    d = MAX_DIM + 1
    net = rn.Network.from_layers([(np.eye(d), np.zeros(d)), (np.ones((1, d)), np.zeros(1))])
    # on an unbounded domain (or with max layers) only the vertex representation applies
    for run in (rn.count_regions, rn.enumerate_regions):
        with pytest.raises(rn.InvalidDomainError, match=f"{d} dimensions.*Slice"):
            run(net, rn.Polytope.whole_space(d))
    # a bounded box goes to the cells given by inequalities
    assert rn.count_regions(net, rn.Box(-np.ones(d), np.ones(d))) == 2 ** d


def test_numba_system_errors_from_ctrl_c_are_recognised():
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as inner:
            raise SystemError("CPUDispatcher returned a result with an exception set") from inner
    except SystemError as err:
        assert is_interrupt(err)
    assert not is_interrupt(SystemError("something else"))
    assert not is_interrupt(ValueError())
