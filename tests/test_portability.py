"""What a new machine meets: one memory layout per network, results that travel between
processes, a command line that starts on every platform, thread counts that adapt to load, and
a benchmark suite that a clone regenerates alone."""
import copy
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import regionenum as re
from oracles import random_net

ROOT = Path(__file__).resolve().parent.parent
DIGITS = Path(re.__file__).parent / "data" / "digits_plane.npz"


def test_weights_are_c_contiguous_float64_whatever_the_caller_passes():
    W = np.asfortranarray(np.arange(12.0).reshape(4, 3))
    net = re.Network.from_layers([(W, np.zeros(4, np.float32)), (np.ones((1, 4), np.float32), [0.0])])
    for layer in net.layers:
        assert layer.W.flags.c_contiguous and layer.W.dtype == np.float64
        assert layer.b.flags.c_contiguous and layer.b.dtype == np.float64
    assert np.array_equal(net.layers[0].W, W)  # same values
    loaded, _ = re.load(DIGITS)  # the bundled file stores its weights in Fortran order
    assert all(layer.W.flags.c_contiguous for layer in loaded.layers)
    # and a network restricted to a plane keeps the layout
    plane = net.restricted(np.zeros(3), np.eye(3)[:, :2])
    assert plane.layers[0].W.flags.c_contiguous


def _results():
    net, box = re.load(DIGITS)
    regions = re.enumerate_regions(net, box)
    return [re.count_regions(net, box), re.count_regions(net, box, max_regions=5), regions,
            regions.linear_regions(), regions.decision_regions(), regions.faces(),
            re.verify.output_range(regions), re.verify.check_property(regions, [[1.0] + [0.0] * 9], [0.0]),
            re.verify.lipschitz(regions, norm=np.inf), re.estimators.chao1(net, box, 100, seed=0)]


def test_results_pickle_and_copy():
    for result in _results():
        for back in (pickle.loads(pickle.dumps(result)), copy.copy(result), copy.deepcopy(result)):
            assert type(back) is type(result)
            assert repr(back) == repr(result) or type(result).__repr__ is object.__repr__
    count = re.count_regions(*re.load(DIGITS), max_regions=5)
    back = pickle.loads(pickle.dumps(count))
    assert (int(back), back.bounded, back.complete, back.stop_reason) == (5, 5, False, "max_regions")
    regions = _results()[2]
    again = pickle.loads(pickle.dumps(regions))
    assert np.array_equal(again.packed_patterns, regions.packed_patterns)
    assert again.adjacency_graph().number_of_edges() == regions.adjacency_graph().number_of_edges()


def test_results_go_through_dask_serialisation():
    protocol = pytest.importorskip("distributed.protocol")
    for result in _results()[:3]:
        back = protocol.deserialize(*protocol.serialize(result))
        assert type(back) is type(result) and repr(back) == repr(result)


def test_the_command_line_starts_without_unix_only_modules():
    """Windows has no ``resource``, ``fcntl``, ``termios``, ``pwd`` or ``grp``: importing the
    package and running a command must not need them."""
    code = ("import sys\n"
            "for name in ('resource', 'fcntl', 'termios', 'pwd', 'grp'):\n"
            "    sys.modules[name] = None  # importing it now raises ImportError\n"
            "from regionenum.cli import main\n"
            "sys.exit(main(['count', '--example', 'digits_plane', '--json']))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert '"regions": 1562' in run.stdout


def test_blas_threads_follow_the_idle_cores(monkeypatch):
    from regionenum import threads
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


def test_benchmark_suite_is_generated_from_the_repository(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import nets
    finally:
        sys.path.pop(0)
    ours = nets.random_nets()
    assert set(ours) == set(nets.SUITE)
    net, box = re.load(nets.write_suite(tmp_path, digits=False) / "r2_small.npz")
    assert net.widths == (32, 32, 32, 1) and box.dim == 2
    shared = ROOT.parent / "shared" / "bench" / "make_nets.py"
    if not shared.exists():
        pytest.skip("the shared generator is not beside this clone: compared only when it is")
    # the shared generator trains the digits net too (scikit-learn, a few seconds)
    pytest.importorskip("sklearn")
    subprocess.run([sys.executable, str(shared), str(tmp_path / "shared")], check=True, capture_output=True)
    theirs_dir = tmp_path / "shared"
    ours.update(nets.digits_nets())
    for name, arrays in ours.items():
        with np.load(theirs_dir / f"{name}.npz") as theirs:
            assert set(theirs.files) == set(arrays), name
            for key, value in arrays.items():
                assert theirs[key].dtype == value.dtype and np.array_equal(theirs[key], value), (name, key)
