"""The command line, run as users run it: a subprocess on real files, checking output and exit
codes."""
import json
import subprocess
import sys

import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

BOX2 = rn.Box([-1, -1], [1, 1])


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "regionenum.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600, cwd=cwd)


@pytest.fixture(scope="module")
def net2(tmp_path_factory):
    path = tmp_path_factory.mktemp("nets") / "net2.npz"
    net = random_net([2, 12, 12, 3], 3)
    rn.save(path, net, BOX2)
    return path, net


def test_help_everywhere():
    from regionenum.cli import _parser
    parser = _parser()
    for cmd in ([], ["demo"], ["count"], ["enumerate"], ["estimate"], ["plot"], ["bench"]):
        with pytest.raises(SystemExit) as done:
            parser.parse_args([*cmd, "--help"])
        assert done.value.code == 0
    run = _cli("plot", "--help")  # and once for real
    assert run.returncode == 0 and "usage: regionenum plot" in run.stdout and "--slice" in run.stdout
    assert _cli().returncode == 2  # a command is required
    assert _cli("count", "--bogus").returncode == 2


def test_count_json_full_and_budgets(net2):
    path, net = net2
    out = json.loads(_cli("count", path, "--json").stdout)
    assert out["regions"] == rn.count_regions(net, BOX2) and out["complete"] is True
    full = json.loads(_cli("count", path, "--json", "--full").stdout)
    assert full["regions"] == out["regions"] and full["volume_sum"] == pytest.approx(4.0)
    part = json.loads(_cli("count", "--example", "digits_plane", "--max-regions", "5", "--json").stdout)
    assert part["regions"] == 5 and part["complete"] is False and part["stop_reason"] == "max_regions"
    text = _cli("count", "--example", "digits_plane", "--lo", "0", "0", "--hi", "1", "1")
    assert text.returncode == 0 and "activation regions" in text.stdout and "[0.0, 0.0]" in text.stdout


def test_enumerate_writes_loadable_result_and_graph(net2, tmp_path):
    path, net = net2
    run = _cli("enumerate", path, "-o", tmp_path / "r.npz", "--graph", tmp_path / "g.graphml", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    back = rn.load_regions(tmp_path / "r.npz")
    assert len(back) == out["regions"] == rn.count_regions(net, BOX2)
    G = rn.read_graph(tmp_path / "g.graphml")
    assert G.number_of_edges() == out["graph_edges"] == back.adjacency_graph().number_of_edges()
    run = _cli("enumerate", path, "-o", tmp_path / "r.json", "--quiet")
    assert run.returncode == 0 and "written to" in run.stdout
    assert len(rn.load_regions(tmp_path / "r.json")) == len(back)


def test_estimate_rows(net2):
    path, net = net2
    rows = json.loads(_cli("estimate", path, "--budgets", "100", "1000", "--json").stdout)
    exact = rn.count_regions(net, BOX2)
    assert {r["method"] for r in rows} == {"sampled_patterns", "chao1", "grid_patterns", "hanin_rolnick"}
    assert all(r["exact"] == exact for r in rows)
    assert all(r["estimate"] <= exact for r in rows if r["kind"] == "lower bound")


def test_plot_pictures(net2, tmp_path):
    mpimg = pytest.importorskip("matplotlib.image")
    path, _ = net2
    png = tmp_path / "class.png"
    run = _cli("plot", path, "-o", png, "--color-by", "class")
    assert run.returncode == 0, run.stderr
    img = mpimg.imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 300
    assert np.unique(img.reshape(-1, img.shape[-1]), axis=0).shape[0] > 20  # not blank
    cube = tmp_path / "cube.npz"
    rn.save(cube, random_net([3, 8, 8, 1], 4), rn.Box(-np.ones(3), np.ones(3)))
    run = _cli("plot", cube, "-o", tmp_path / "slice.png", "--slice", "2=0.25")
    assert run.returncode == 0 and "regions drawn" in run.stdout
    bad = _cli("plot", cube, "-o", tmp_path / "x.png")
    assert bad.returncode == 2 and "plot --slice" in bad.stderr
    bad = _cli("plot", cube, "-o", tmp_path / "x.png", "--slice", "5=0")
    assert bad.returncode == 2 and "AXIS in 0..2" in bad.stderr


def test_demo_and_bench(net2, tmp_path):
    run = _cli("demo", "-o", tmp_path / "demo.png", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["regions"] == 1562 and out["euler_characteristic"] == 1
    assert out["picture"] and (tmp_path / "demo.png").stat().st_size > 10000
    assert all(r["ratio"] <= 1 for r in out["estimators"] if r["method"] != "hanin_rolnick"
               and r["method"] != "chao1")
    path, net = net2
    rows = json.loads(_cli("bench", path, "--json").stdout)
    assert [r["mode"] for r in rows] == ["count", "enumerate"]
    assert all(r["regions"] == rn.count_regions(net, BOX2) for r in rows)


def test_errors_name_the_problem(net2, tmp_path):
    path, _ = net2
    missing = _cli("count", tmp_path / "nope.npz")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    (tmp_path / "junk.npz").write_text("not a zip")
    junk = _cli("count", tmp_path / "junk.npz")
    assert junk.returncode == 2 and "not a .npz archive" in junk.stderr
    keras = _cli("count", tmp_path / "model.h5")
    assert keras.returncode == 2 and "unsupported model format '.h5'" in keras.stderr
    onnx = _cli("count", tmp_path / "model.onnx")
    assert onnx.returncode == 2 and "no such file" in onnx.stderr
    assert _cli("count", path, "--lo", "0", "0").returncode == 2
    nowhere = _cli("enumerate", path)
    assert nowhere.returncode == 2 and "-o FILE" in nowhere.stderr
    wrong = _cli("enumerate", path, "-o", tmp_path / "r.csv")
    assert wrong.returncode == 2 and ".npz or .json" in wrong.stderr
    assert _cli("estimate", path, "--budgets", "0").returncode == 2
    assert _cli("plot", path, "-o", tmp_path / "p.png", "--color-by", "nonsense").returncode == 2
