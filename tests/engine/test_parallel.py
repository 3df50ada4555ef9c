"""Parallel and distributed enumeration give the serial result: same regions, same order."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

CASES = [
    (random_net([2, 16, 16, 2], 0), rn.Box([-1, -1], [1, 1])),
    (random_net([3, 8, 8, 1], 1), rn.Box(-np.ones(3), np.ones(3))),
    (random_net([2, 10, 10, 1], 2), rn.Polytope.whole_space(2)),           # pieces merged by pattern
    (random_net([2, 10, 10, 1], 3), rn.Polytope(np.array([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]),
                                                np.array([-1.0, 0.0, 0.0]))),
    (rn.Network.from_layers([(np.array([[1.0, 2.0], [-1.0, 0.5]]), np.zeros(2))], ["relu"]),  # one layer
     rn.Box([-1, -1], [1, 1])),
    (rn.Network.from_layers(  # a maxout layer, then a ReLU layer carrying one input linearly
        [(np.random.default_rng(4).normal(size=(9, 2)), np.random.default_rng(5).normal(size=9)),
         (np.vstack([np.random.default_rng(6).normal(size=(6, 3)), [[1.0, 0, 0]]]), np.zeros(7)),
         (np.ones((1, 7)), np.zeros(1))],
        [("maxout", 3), rn.Activation("relu", linear=(6,)), "identity"]), rn.Box([-2, -2], [2, 2])),
]


def _same(a, b):
    assert np.array_equal(a.packed_patterns, b.packed_patterns)
    assert np.array_equal(a.vertex_offsets, b.vertex_offsets)
    assert np.array_equal(a.facet_offsets, b.facet_offsets)
    np.testing.assert_allclose(a.vertices, b.vertices, rtol=1e-12, atol=1e-12)  # GEMM blocking: last bits
    np.testing.assert_allclose(a.volumes, b.volumes, rtol=1e-10)
    np.testing.assert_array_equal(a.bounded, b.bounded)
    assert b.complete


@pytest.mark.parametrize("net,domain", CASES, ids=["box2d", "box3d", "plane", "triangle", "one_layer",
                                                                "max_and_linear"])
def test_workers_give_the_serial_result(net, domain):
    serial = rn.enumerate_regions(net, domain)
    _same(serial, rn.enumerate_regions(net, domain, workers=2))
    n = rn.count_regions(net, domain, workers=2)
    assert n == len(serial) and n.bounded == int(serial.bounded.sum()) and n.complete


def test_parallel_budgets_and_errors():
    net, box = CASES[0]
    with pytest.raises(rn.RegionEnumError, match="workers must be a positive integer"):
        rn.count_regions(net, box, workers=0)
    with pytest.raises(rn.RegionEnumError, match="max_regions needs a serial run"):
        rn.count_regions(net, box, workers=2, max_regions=10)
    seen = []
    rn.count_regions(net, box, workers=2, progress=seen.append)
    assert seen and seen[-1].regions == rn.count_regions(net, box) and seen[-1].pending_cells == 0


def test_progress_names_the_layers_the_serial_run_names():
    """The last report of a run on worker processes names the layer the serial run's last report
    names (it said layer 1 whatever the network: here three hidden layers, and a Slice, whose
    first layer is the slice's map)."""
    rng = np.random.default_rng(5)
    net = rn.Network.from_layers([(rng.normal(size=(12, 3)), rng.normal(size=12)),
                                  (rng.normal(size=(12, 12)), rng.normal(size=12)),
                                  (rng.normal(size=(12, 12)), rng.normal(size=12)),
                                  (rng.normal(size=(1, 12)), np.zeros(1))])
    for domain in (rn.Box([-1] * 3, [1] * 3), rn.Slice([0, 0, 0], [[1, 0], [0, 1], [1, 1]], rn.Box([-1, -1], [1, 1]))):
        for run in (rn.count_regions, rn.enumerate_regions):
            serial, parallel = [], []
            run(net, domain, progress=serial.append)
            run(net, domain, workers=2, progress=parallel.append)
            assert parallel[-1].layer == serial[-1].layer >= 2


def test_dask_cluster_gives_the_serial_result():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        for net, domain in CASES[:3]:
            _same(rn.enumerate_regions(net, domain), rn.enumerate_regions(net, domain, client=client))
            assert rn.count_regions(net, domain, client=client) == rn.count_regions(net, domain)


def test_chunks_share_one_deadline():
    """A chunk that waited for a worker past the run's time limit is not started (each chunk
    had the whole limit from its own start: 2 workers over a 0.5 s limit ran 2.4 s)."""
    import time

    from regionenum.engine import parallel
    from regionenum.engine.subtrees import Part

    net, box = CASES[0]
    job = {"network": net, "domain": box, "tol": 1e-9, "keep": True, "roots": None, "deadline": time.time() - 1.0,
           "batch_size": 64, "keepers": 2, "run": "a run"}
    run = [Part(1, [None] * 5, None, None, None, 0.25)]  # no cell is looked at
    index, n_cells, layer, tally = parallel._work(job, 3, run)
    assert (index, n_cells, layer, tally.count, tally.finished) == (3, 5, 1, 0, []) and tally.stop_reason == "time_limit"
    part = rn.count_regions(*CASES[1], workers=2, time_limit=1e-3)
    assert not part.complete and part.stop_reason == "time_limit"
