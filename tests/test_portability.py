"""What a new machine meets: results that travel between processes, a command line that starts on every platform (and without networkx and most of scipy until an analysis needs them), and a benchmark suite that a clone regenerates alone."""
import copy
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import regionenum as rn

ROOT = Path(__file__).resolve().parent.parent

DIGITS = Path(rn.__file__).parent / "data" / "digits_plane.npz"


def _results():
    net, box = rn.load(DIGITS)
    regions = rn.enumerate_regions(net, box)
    return [rn.count_regions(net, box), rn.count_regions(net, box, max_regions=5), regions,
            regions.linear_regions(), regions.decision_regions(), regions.faces(),
            rn.verify.output_range(regions), rn.verify.check_property(regions, [[1.0] + [0.0] * 9], [0.0]),
            rn.verify.lipschitz(regions, norm=np.inf), rn.estimators.chao1(net, box, 100, seed=0)]


def test_results_pickle_and_copy():
    for result in _results():
        for back in (pickle.loads(pickle.dumps(result)), copy.copy(result), copy.deepcopy(result)):
            assert type(back) is type(result)
            assert repr(back) == repr(result) or type(result).__repr__ is object.__repr__
    count = rn.count_regions(*rn.load(DIGITS), max_regions=5)
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


def _run_without(modules, body: str) -> str:
    """Run the Python lines ``body`` in a fresh process in which importing any of ``modules``
    raises ImportError; its standard output (it must succeed)."""
    code = (f"import sys\nfor name in {tuple(modules)!r}:\n"
            "    sys.modules[name] = None  # importing it now raises ImportError\n" + body)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_command_line_starts_without_unix_only_modules():
    """Windows has no ``resource``, ``fcntl``, ``termios``, ``pwd`` or ``grp``: importing the
    package and running a command must not need them."""
    out = _run_without(("resource", "fcntl", "termios", "pwd", "grp"),
                       "from regionenum.cli import main\n"
                       "sys.exit(main(['count', '--example', 'digits_plane', '--json']))\n")
    assert '"regions": 1562' in out


def test_counts_and_enumerations_import_neither_networkx_nor_scipy():
    """networkx and scipy's optimize, sparse and spatial packages take about half of the
    package's import time: the package, a count on a box, an enumeration and the command line
    go without them; the adjacency graph imports networkx, the linear regions scipy."""
    out = _run_without(("networkx", "scipy.optimize", "scipy.sparse", "scipy.spatial"),
                       "import regionenum as rn\n"
                       "from regionenum.cli import main\n"
                       "assert main(['count', '--example', 'digits_plane', '--json']) == 0\n"
                       "net, box = rn.load(rn.__path__[0] + '/data/digits_plane.npz')\n"
                       "regions = rn.enumerate_regions(net, box)\n"
                       "print(len(regions), int(rn.count_regions(net, box)))\n"
                       "for what in ('adjacency_graph', 'linear_regions'):\n"
                       "    try:\n"
                       "        getattr(regions, what)()\n"
                       "    except ImportError:\n"
                       "        print(what, 'needs its package')\n")
    assert '"regions": 1562' in out and "1562 1562" in out, out
    assert "adjacency_graph needs its package" in out and "linear_regions needs its package" in out


def test_benchmark_suite_is_generated_from_the_repository(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import nets
    finally:
        sys.path.pop(0)
    ours = nets.random_nets()
    assert set(ours) == set(nets.SUITE)
    net, box = rn.load(nets.write_suite(tmp_path, digits=False) / "r2_small.npz")
    assert net.widths == (32, 32, 32, 1) and box.dim == 2
    shared = ROOT.parent / "shared" / "bench" / "make_nets.py"
    if not shared.exists():
        pytest.skip("the shared generator is not beside this clone: compared only when it is")
    # the shared generator trains the digits net too (scikit-learn, a few seconds); both run in
    # fresh processes, so that the training's BLAS sees the same thread settings
    pytest.importorskip("sklearn")
    subprocess.run([sys.executable, str(shared), str(tmp_path / "shared")], check=True, capture_output=True)
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "nets.py"), str(tmp_path / "ours")], check=True,
                   capture_output=True)
    names = sorted(p.stem for p in (tmp_path / "ours").glob("*.npz"))
    assert names == sorted(p.stem for p in (tmp_path / "shared").glob("*.npz"))
    assert set(ours) | {"digits_plane", "digits_full"} <= set(names)
    for name in names:
        with np.load(tmp_path / "shared" / f"{name}.npz") as theirs, np.load(tmp_path / "ours" / f"{name}.npz") as mine:
            assert set(theirs.files) == set(mine.files), name
            for key in mine.files:
                value = mine[key]
                assert theirs[key].dtype == value.dtype and np.array_equal(theirs[key], value), (name, key)
