"""The command line, run as users run it: a subprocess on real files, checking output and exit
codes. Ctrl-C is tested by sending SIGINT at chosen moments: while the kernels compile, during
a run (once the progress report shows on a terminal), and while a file is being written."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction

import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

BOX2 = rn.Box([-1, -1], [1, 1])
CLI = [sys.executable, "-m", "regionenum.cli"]


def _cli(*args, cwd=None, env=None, timeout=600):
    """The command line in a fresh process, as users run it."""
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=env)


@pytest.fixture
def cli(capsys):
    """The command line in this process (quicker, for the variations of a case a subprocess
    test covers): ``cli(*args)`` returns an object with ``returncode``, ``stdout``, ``stderr``."""
    from regionenum.cli import main

    def run(*args):
        try:
            code = main([str(a) for a in args])
        except SystemExit as done:  # argparse
            code = done.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return run


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    """Small networks as files: a 2-input classifier, a 3-input regressor, a 64-input classifier
    with three inputs of it, and a 2-input net too large to finish quickly (for Ctrl-C)."""
    folder = tmp_path_factory.mktemp("nets")
    net2 = random_net([2, 12, 12, 3], 3)
    rn.save(folder / "net2.npz", net2, BOX2)
    rn.save(folder / "net3.npz", random_net([3, 8, 8, 1], 4), rn.Box(-np.ones(3), np.ones(3)))
    net64 = random_net([64, 10, 10, 3], 5)
    rn.save(folder / "net64.npz", net64, rn.Box(np.zeros(64), np.ones(64)))
    points = np.random.default_rng(0).uniform(0, 1, (3, 1, 8, 8))  # three 8x8 "images"
    for name, x in zip("abc", points):
        np.save(folder / f"{name}.npy", x)
    rn.save(folder / "long.npz", random_net([2] + [300] * 8 + [3], 0), BOX2)  # a count of over 30 s
    return dict(folder=folder, net2=net2, net64=net64, points=points.reshape(3, 64))


def test_help_everywhere():
    from regionenum.cli import _parser
    parser = _parser()
    for cmd in ([], ["demo"], ["count"], ["enumerate"], ["estimate"], ["plot"], ["verify"], ["bench"]):
        with pytest.raises(SystemExit) as done:
            parser.parse_args([*cmd, "--help"])
        assert done.value.code == 0
    run = _cli("plot", "--help")  # and once for real
    assert run.returncode == 0 and "usage: regionenum plot" in run.stdout and "--through" in run.stdout
    with pytest.raises(SystemExit) as done:
        parser.parse_args(["count", "--bogus"])
    assert done.value.code == 2


def test_count_json_full_and_budgets(nets, cli):
    path = nets["folder"] / "net2.npz"
    run = _cli("count", path, "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["regions"] == rn.count_regions(nets["net2"], BOX2) and out["complete"] is True
    assert out["domain"] == {"kind": "box", "lo": [-1.0, -1.0], "hi": [1.0, 1.0]} and out["kernel_seconds"] >= 0
    stages = out["sign_stages"]
    assert stages["float64 filter"] > 0 and stages["exact arithmetic"] == out["exact_calls"]
    full = cli("count", path, "--full")  # text: the volume check is printed
    assert full.returncode == 0
    assert f"{out['regions']} activation regions" in full.stdout and "volumes: 4 in all, of the domain's 4" in \
        full.stdout and "they tile the domain" in full.stdout
    part = json.loads(cli("count", "--example", "digits_plane", "--max-regions", "5", "--json").stdout)
    assert part["regions"] == 5 and part["complete"] is False and part["stop_reason"] == "max_regions"
    text = cli("count", "--example", "digits_plane", "--lo", "0", "0", "--hi", "1", "1", "--max-regions", "9")
    assert text.returncode == 0 and "9 activation regions (incomplete: stopped by --max-regions)" in text.stdout
    assert "domain:  box [0, 0] .. [1, 1]" in text.stdout and "loading/compiling the kernels" in text.stdout


def test_enumerate_writes_loadable_result_and_graph(nets, tmp_path, cli):
    path = nets["folder"] / "net2.npz"
    run = _cli("enumerate", path, "-o", tmp_path / "r.npz", "--graph", tmp_path / "g.graphml", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    back = rn.load_regions(tmp_path / "r.npz")
    assert len(back) == out["regions"] == rn.count_regions(nets["net2"], BOX2)
    G = rn.read_graph(tmp_path / "g.graphml")
    assert G.number_of_edges() == out["graph_edges"] == back.adjacency_graph().number_of_edges()
    run = cli("enumerate", path, "-o", tmp_path / "r.json", "--graph", tmp_path / "g.json", "--max-regions", "7")
    assert run.returncode == 0 and "(marked incomplete)" in run.stdout
    assert "no graph written: the adjacency graph needs a complete enumeration" in run.stdout
    partial = rn.load_regions(tmp_path / "r.json")
    assert len(partial) == 7 and not partial.complete and not (tmp_path / "g.json").exists()


def test_estimate_rows(nets, cli):
    out = json.loads(cli("estimate", nets["folder"] / "net2.npz", "--budgets", "100", "1000", "--json").stdout)
    exact = rn.count_regions(nets["net2"], BOX2)
    assert out["regions"] == exact and out["complete"] is True
    rows = out["rows"]
    assert {r["method"] for r in rows} == {"sampled_patterns", "chao1", "grid_patterns", "hanin_rolnick"}
    assert all(r["exact"] == exact for r in rows)
    assert all(r["estimate"] <= exact for r in rows if r["kind"] == "lower bound")


def _picture(path):
    mpimg = pytest.importorskip("matplotlib.image")
    img = mpimg.imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 300
    assert np.unique(img.reshape(-1, img.shape[-1]), axis=0).shape[0] > 20  # not blank
    return img


def test_plot_pictures(nets, tmp_path, cli):
    pytest.importorskip("matplotlib")
    folder = nets["folder"]
    run = _cli("plot", folder / "net2.npz", "-o", tmp_path / "class.png", "--color-by", "class", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["picture"] == str(tmp_path / "class.png")
    _picture(tmp_path / "class.png")
    run = cli("plot", folder / "net3.npz", "-o", tmp_path / "slice.png", "--slice", "2=0.25",
              "--color-by", "output")
    assert run.returncode == 0 and "regions drawn" in run.stdout, run.stderr
    _picture(tmp_path / "slice.png")
    bad = cli("plot", folder / "net3.npz", "-o", tmp_path / "x.png")
    assert bad.returncode == 2 and "plot --slice" in bad.stderr and "--through" in bad.stderr
    bad = cli("plot", folder / "net3.npz", "-o", tmp_path / "x.png", "--slice", "5=0")
    assert bad.returncode == 2 and "AXIS in 0..2" in bad.stderr
    bad = cli("plot", folder / "net3.npz", "-o", tmp_path / "x.png", "--slice", "1=0", "--color-by", "class")
    assert bad.returncode == 2 and "needs a classifier" in bad.stderr
    bad = cli("plot", folder / "net2.npz", "-o", tmp_path / "x.png", "--output-index", "3")
    assert bad.returncode == 2 and "the model has 3 outputs" in bad.stderr
    assert not (tmp_path / "x.png").exists()


def test_through_a_plane_of_data_points(nets, tmp_path, cli):
    """--through on count, enumerate and plot: the plane through three 64-pixel inputs, as
    rn.Slice.through gives it; files of one input in any shape."""
    folder, net64 = nets["folder"], nets["net64"]
    files = [folder / f"{c}.npy" for c in "abc"]
    expected = rn.count_regions(net64, rn.Slice.through(*nets["points"]))
    run = _cli("count", folder / "net64.npz", "--through", *files, "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["regions"] == expected and out["domain"]["kind"] == "through"
    line = json.loads(cli("count", folder / "net64.npz", "--through", *files[:2], "--json").stdout)
    assert line["regions"] == rn.count_regions(net64, rn.Slice.through(*nets["points"][:2]))
    run = cli("enumerate", folder / "net64.npz", "--through", *files, "--lo", "0", "0", "--hi", "1", "1",
              "-o", tmp_path / "plane.npz")
    assert run.returncode == 0, run.stderr
    back = rn.load_regions(tmp_path / "plane.npz")
    P = nets["points"]
    square = rn.Slice(P[0], (P[1:] - P[0]).T, rn.Box([0, 0], [1, 1]))
    assert back.dim == 2 and len(back) == rn.count_regions(net64, square)
    pytest.importorskip("matplotlib")
    run = cli("plot", folder / "net64.npz", "--through", *files, "-o", tmp_path / "plane.png",
              "--color-by", "linear")
    assert run.returncode == 0, run.stderr
    _picture(tmp_path / "plane.png")
    bad = cli("count", folder / "net64.npz", "--through", files[0], files[0], files[1])
    assert bad.returncode == 2 and "not affinely independent" in bad.stderr
    bad = cli("count", folder / "net2.npz", "--through", *files)
    assert bad.returncode == 2 and "the model takes 2 numbers" in bad.stderr
    bad = cli("count", folder / "net64.npz", "--through", *files, "--slice", "0=0.5")
    assert bad.returncode == 2 and "give one" in bad.stderr
    bad = cli("count", folder / "net64.npz", "--through", *files, "--lo", "0", "--hi", "1")
    assert bad.returncode == 2 and "with --through, --lo bounds the plane's coordinates t1, t2" in bad.stderr


def test_high_dimensional_models_fail_fast_on_a_wrong_box(nets, tmp_path, cli):
    """A 64-input model with a 1-D box is refused at once (no warm-up, no memory blow-up)."""
    folder = nets["folder"]
    bad = _cli("count", folder / "net64.npz", "--lo", "0", "--hi", "1", timeout=120)
    assert bad.returncode == 2 and "--lo has 1 value but" in bad.stderr and "takes 64 inputs" in bad.stderr
    for cmd in (["enumerate", "-o", tmp_path / "r.npz"], ["estimate"], ["plot", "-o", tmp_path / "p.png"],
                ["bench"]):
        bad = cli(*cmd, folder / "net64.npz", "--lo", "0", "--hi", "1")
        assert bad.returncode == 2 and "takes 64 inputs" in bad.stderr, (cmd, bad.stderr)
    pytest.importorskip("onnx")
    from tests.models import to_onnx
    to_onnx(nets["net64"], tmp_path / "net64.onnx")
    bad = cli("count", tmp_path / "net64.onnx", "--lo", "0", "--hi", "1")
    assert bad.returncode == 2 and "takes 64 inputs" in bad.stderr


def _limited_memory():  # pragma: no cover - runs in the child
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="limits the child's memory with resource (Unix)")
def test_high_dimensional_box_refused_before_any_work(nets):
    """With the right 64-D box the dimension is refused before any work (past the engine's
    MAX_DIM: a d-cube's root cell has 2^d corners), pointing at --slice and --through, with exit
    status 2; the child's memory is capped so that a regression cannot take the machine down."""
    run = subprocess.run([*CLI, "count", str(nets["folder"] / "net64.npz")], capture_output=True, text=True,
                         timeout=300, preexec_fn=_limited_memory)
    assert run.returncode == 2, run.stderr[-2000:]
    assert run.stderr.startswith("regionenum: error:") and "64 dimensions" in run.stderr
    assert "--through" in run.stderr and "--slice" in run.stderr


def test_output_paths_are_checked_before_the_work(nets, tmp_path, cli):
    path = nets["folder"] / "net2.npz"
    bad = _cli("enumerate", path, "-o", tmp_path / "missing" / "r.npz")
    assert bad.returncode == 2 and "-o " in bad.stderr and "does not exist" in bad.stderr and bad.stdout == ""
    for cmd, flag in ((["enumerate", "--graph", tmp_path / "missing" / "g.graphml"], "--graph"),
                      (["plot", "-o", tmp_path / "missing" / "p.png"], "-o")):
        bad = cli(*cmd, path)
        assert bad.returncode == 2 and f"{flag} " in bad.stderr and "does not exist" in bad.stderr, bad.stderr
        assert bad.stdout == ""
    bad = cli("demo", "-o", tmp_path / "missing" / "demo.png")
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    bad = cli("plot", path, "-o", tmp_path / "p.bmp")
    assert bad.returncode == 2 and "unknown format '.bmp'" in bad.stderr


@pytest.fixture(scope="module")
def torch_models(tmp_path_factory):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    folder = tmp_path_factory.mktemp("pt")
    torch.manual_seed(0)
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 3))
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 3))
    torch.save(conv, folder / "conv.pt")
    torch.save(mlp, folder / "mlp.pt")
    # a module whose class lives in a script's __main__: not importable when regionenum loads it
    script = folder / "make.py"
    script.write_text("import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n"
                      "        super().__init__()\n        self.fc = torch.nn.Linear(2, 3)\n"
                      "    def forward(self, x):\n        return self.fc(x)\n"
                      f"torch.save(Net(), {str(folder / 'custom.pt')!r})\n")
    subprocess.run([sys.executable, str(script)], check=True, timeout=300)
    return dict(folder=folder, conv=conv, mlp=mlp, torch=torch)


def test_pt_input_shapes(nets, torch_models, cli):
    folder, data = torch_models["folder"], nets["folder"]
    files = [data / f"{c}.npy" for c in "abc"]
    # a conv net: the shape cannot be read from a Linear further in; say so, before any work
    bad = _cli("count", folder / "conv.pt", "--through", *files)
    assert bad.returncode == 2 and "give the input shape" in bad.stderr and "Conv2d" in bad.stderr
    # a class only the saving script knew: one line, no traceback
    bad = _cli("count", folder / "custom.pt", "--lo", "0", "0", "--hi", "1", "1")
    assert bad.returncode == 2 and "cannot be imported here" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    out = json.loads(cli("count", folder / "conv.pt", "--input-shape", "1", "8", "8", "--through", *files,
                         "--json").stdout)
    expected = rn.Network.from_torch(torch_models["conv"], (1, 8, 8))
    assert out["regions"] == rn.count_regions(expected, rn.Slice.through(*nets["points"]))
    # Flatten then Linear: unambiguous, no --input-shape needed
    out = json.loads(cli("count", folder / "mlp.pt", "--through", *files, "--json").stdout)
    mlp = rn.Network.from_torch(torch_models["mlp"], (64,))
    assert out["regions"] == rn.count_regions(mlp, rn.Slice.through(*nets["points"]))
    bad = cli("count", data / "net2.npz", "--input-shape", "2")
    assert bad.returncode == 2 and "for .pt models only" in bad.stderr
    for cmd in (["verify", folder / "conv.pt", data / "none.vnnlib"], ["bench", folder / "conv.pt"],
                ["plot", folder / "conv.pt", "-o", data / "p.png"], ["enumerate", folder / "conv.pt", "--json"],
                ["estimate", folder / "conv.pt"]):
        bad = cli(*cmd)
        assert bad.returncode == 2 and "give the input shape" in bad.stderr, (cmd, bad.stderr)


def test_demo_and_example_everywhere(nets, tmp_path, cli):
    run = _cli("demo", "-o", tmp_path / "demo.png", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["regions"] == 1562 and out["euler_characteristic"] == 1
    assert out["lipschitz"]["value"] == pytest.approx(float(Fraction(out["lipschitz"]["exact"])))
    assert out["picture"] and (tmp_path / "demo.png").stat().st_size > 10000
    assert all(r["ratio"] <= 1 for r in out["estimators"] if r["method"] not in ("hanin_rolnick", "chao1"))
    text = cli("demo", "-o", tmp_path / "demo.png").stdout
    assert "Lipschitz constant on the plane (inf-norm, exact): 85.7246 (exact: a fraction of" in text
    out = json.loads(cli("bench", nets["folder"] / "net2.npz", "--example", "digits_plane", "--json").stdout)
    assert [(r["net"][-8:], r["mode"]) for r in out["rows"]] == [
        ("net2.npz", "count"), ("net2.npz", "enumerate"), ("example)", "count"), ("example)", "enumerate")]
    assert [r["regions"] for r in out["rows"]] == [rn.count_regions(nets["net2"], BOX2)] * 2 + [1562] * 2
    assert out["complete"] is True and out["kernel_seconds"] >= 0
    for cmd in (["count"], ["enumerate", "--json"], ["estimate", "--budgets", "10"],
                ["plot", "-o", tmp_path / "e.png"], ["verify"]):
        run = cli(*cmd, "--example", "digits_plane")
        assert run.returncode == 0, (cmd, run.stderr)


def test_verify_example_and_plane(nets, tmp_path, cli):
    out = json.loads(cli("verify", "--example", "digits_plane", "--json").stdout)
    assert out["status"] == "unsat" and out["complete"] is True  # the bundled property holds
    assert out["proof"]["cells"] >= 1
    wrong = cli("verify", "--example", "digits_plane", "--max-regions", "3")  # the search has no regions
    assert wrong.returncode == 2 and "--max-regions" in wrong.stderr
    # on the plane through three inputs: is output 0 ever >= 0.2 where every pixel is in [0, 1]?
    folder, net64 = nets["folder"], nets["net64"]
    prop = tmp_path / "p.vnnlib"
    prop.write_text("".join(f"(declare-const X_{i} Real)" for i in range(64))
                    + "".join(f"(declare-const Y_{j} Real)" for j in range(3))
                    + "".join(f"(assert (>= X_{i} 0))(assert (<= X_{i} 1))" for i in range(64))
                    + "(assert (>= Y_0 0.2))")
    files = [folder / f"{c}.npy" for c in "abc"]
    run = _cli("verify", folder / "net64.npz", prop, "--through", *files, "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    P = nets["points"]
    T = np.random.default_rng(1).uniform(-3, 3, (20000, 2))
    X = P[0] + T @ (P[1:] - P[0])
    inside = np.all((X >= 0) & (X <= 1), axis=1)
    sampled = net64(X[inside])[:, 0].max()
    if out["status"] == "sat":  # the counterexample lies on the plane, in the box, and violates
        x, t = np.array(out["counterexample"]), np.array(out["counterexample_t"])
        assert np.allclose(x, P[0] + (P[1:] - P[0]).T @ t) and np.all((x >= -1e-9) & (x <= 1 + 1e-9))
        assert net64(x[None])[0, 0] >= 0.2 - 1e-9
    else:  # samples of the plane within the box never violate
        assert out["status"] == "unsat" and inside.sum() > 100 and sampled < 0.2
    bad = cli("verify", "--example", "digits_plane", "a.vnnlib", "b.vnnlib")
    assert bad.returncode == 2 and "at most the property file" in bad.stderr
    bad = cli("verify", folder / "net64.npz")
    assert bad.returncode == 2 and "give a network and a property file" in bad.stderr


def test_errors_name_the_problem(nets, tmp_path, cli):
    path = nets["folder"] / "net2.npz"
    (tmp_path / "junk.npz").write_text("not a zip")
    junk = _cli("count", tmp_path / "junk.npz")
    assert junk.returncode == 2 and "not a .npz archive" in junk.stderr and "Traceback" not in junk.stderr
    missing = cli("count", tmp_path / "nope.npz")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    keras = cli("count", tmp_path / "model.h5")
    assert keras.returncode == 2 and "unsupported model format '.h5'" in keras.stderr
    onnx = cli("count", tmp_path / "model.onnx")
    assert onnx.returncode == 2 and "no such file" in onnx.stderr
    assert "give both --lo and --hi" in cli("count", path, "--lo", "0", "0").stderr
    nowhere = cli("enumerate", path)
    assert nowhere.returncode == 2 and "-o FILE" in nowhere.stderr
    wrong = cli("enumerate", path, "-o", tmp_path / "r.csv")
    assert wrong.returncode == 2 and "unknown format '.csv'" in wrong.stderr
    (tmp_path / "out.json").mkdir()  # an IsADirectoryError came out once the result was made
    folder = cli("enumerate", path, "-o", tmp_path / "out.json")
    assert folder.returncode == 2 and "is a folder: give a file name in it" in folder.stderr
    assert cli("estimate", path, "--budgets", "0").returncode == 2
    assert cli("count", path, "--time-limit", "-1").returncode == 2
    assert cli("plot", path, "-o", tmp_path / "p.png", "--color-by", "nonsense").returncode == 2
    bad = cli("count", path, "--slice", "0=5")
    assert bad.returncode == 2 and "outside the box on input 0" in bad.stderr
    bad = cli("count", path, "--slice", "0=0", "--slice", "1=0")
    assert bad.returncode == 2 and "leave at least one free" in bad.stderr
    huge = cli("estimate", path, "--budgets", "100", "1000000000000000")  # refused before the enumeration
    assert huge.returncode == 2 and "this machine has" in huge.stderr and "regions" not in huge.stdout
    seed = cli("estimate", path, "--budgets", "100", "--seed", "-1")
    assert seed.returncode == 2 and "seed must be" in seed.stderr
    np.savez(tmp_path / "objects.npz", W0=np.array([[1, None]], dtype=object), b0=np.zeros(1))
    objects = cli("count", tmp_path / "objects.npz", "--lo", "0", "0", "--hi", "1", "1")
    assert objects.returncode == 2 and "holds Python objects" in objects.stderr
    np.savez(tmp_path / "plant.npz", A=np.eye(2), B=np.ones((2, 1)), C=np.eye(2))  # C is not c
    plant = cli("reach", path, tmp_path / "plant.npz", "--x0-lo", "0", "0", "--x0-hi", "1", "1")
    assert plant.returncode == 2 and "unknown arrays ['C'] beside A and B" in plant.stderr


def test_negative_numbers_in_any_notation_are_values(nets, cli):
    """argparse took ``-1e-1`` and ``-inf`` for options ("expected at least one argument")."""
    path = nets["folder"] / "net2.npz"
    counts = [json.loads(cli("count", path, "--json", "--lo", lo, "-1", "--hi", "1", "1").stdout)["regions"]
              for lo in ("-1e-1", "-0.1", "-1E-1", "-.1")]
    assert counts == [counts[1]] * 4
    assert counts[1] == int(rn.count_regions(nets["net2"], rn.Box([-0.1, -1], [1, 1])))
    whole = cli("count", path, "--lo", "-inf", "-1", "--hi", "1", "1")
    assert whole.returncode == 2 and "lo has a non-finite value" in whole.stderr


def test_outputs_never_overwrite_inputs_or_each_other(nets, tmp_path, cli):
    """A result written over the network it came from (also by another path to it, or a link),
    or two results into one file: refused before any work, the files left as they were."""
    net = tmp_path / "net.npz"
    net.write_bytes((nets["folder"] / "net2.npz").read_bytes())
    (tmp_path / "link.npz").symlink_to(net)
    before = net.read_bytes()
    for args in (["-o", net], ["-o", tmp_path / "." / "net.npz"], ["-o", tmp_path / "link.npz"],
                 ["-o", tmp_path / "r.json", "--graph", tmp_path / "net.npz"]):
        run = cli("enumerate", net, *args)
        assert run.returncode == 2 and "is also a file this command reads" in run.stderr, run.stderr
    same = cli("enumerate", net, "-o", tmp_path / "r.json", "--graph", tmp_path / "r.json")
    assert same.returncode == 2 and "-o and --graph name the same file" in same.stderr
    assert net.read_bytes() == before and not (tmp_path / "r.json").exists()
    assert cli("enumerate", net, "-o", tmp_path / "r.json", "--graph", tmp_path / "g.json").returncode == 0


# -- Ctrl-C -----------------------------------------------------------------------------------------
def _interrupt_when(args, marker: str, env=None, timeout: float = 300):
    """Run the CLI with standard error on a pseudo-terminal (so that it reports progress as on a
    terminal), send SIGINT once the regular expression ``marker`` matches there, and return
    ``(returncode, stdout, stderr)``."""
    import pty
    master, child = pty.openpty()
    proc = subprocess.Popen([*CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=child, text=True, env=env)
    os.close(child)
    seen = []
    arrived = threading.Event()

    def drain():  # read the terminal until the child closes it (a full terminal would block it)
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen.append(chunk.decode(errors="replace"))
            if re.search(marker, "".join(seen)):
                arrived.set()
        arrived.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    assert arrived.wait(timeout), "".join(seen)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=timeout)
    reader.join(timeout)
    os.close(master)
    return proc.returncode, out, "".join(seen)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (Unix)")
@pytest.mark.parametrize("command", [["count"], ["count", "--full"], ["enumerate", "-o", "{tmp}/r.npz"],
                                     ["plot", "-o", "{tmp}/p.png"], ["estimate"], ["verify"]])
def test_ctrl_c_during_a_run_gives_the_partial_result(nets, tmp_path, command):
    """SIGINT once the progress report shows: exit 0 and the regions found so far, marked
    interrupted; files asked for are written (and load back, marked incomplete)."""
    long = nets["folder"] / "long.npz"
    args = [c.format(tmp=tmp_path) for c in command]
    if command == ["verify"]:
        # Y_0 reaches 2.69 on 20,000 samples (a range of 2.43): 3.9 is out of reach, yet proving so
        # takes minutes (at 1000 the output's bounds proved it in 85 cells, 2 s); its first cell
        # is decided after about 30 s
        prop = tmp_path / "p.vnnlib"
        prop.write_text("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)"
                        "(declare-const Y_1 Real)(declare-const Y_2 Real)(assert (>= X_0 -1))(assert (<= X_0 1))"
                        "(assert (>= X_1 -1))(assert (<= X_1 1))(assert (>= Y_0 3.9))")
        args += [long, prop]
    else:
        args.insert(1, long)
    # some regions found; the search's first cells waiting (it decides none for a while)
    marker = r"\| [1-9][\d,]* cells waiting" if command == ["verify"] else r"\| [1-9][\d,]* regions"
    code, out, err = _interrupt_when([*args, "--json"], marker)
    assert code == 0, err[-3000:]
    report = json.loads(out)
    assert report["complete"] is False and report["stop_reason"] == "interrupted", report
    assert "stopping with what was found so far" in err and "Traceback" not in err
    if command[0] == "verify":
        assert report["status"] == "unknown"
        return
    assert report["regions"] > 0
    if command[0] == "enumerate":
        back = rn.load_regions(tmp_path / "r.npz")
        assert len(back) == report["regions"] and back.stop_reason == "interrupted"
    if command[0] == "plot":
        assert report["picture"] and (tmp_path / "p.png").stat().st_size > 1000


def _enumerate_into_a_pipe(nets, tmp_path, signals: int):
    """Enumerate into a FIFO that is read only after ``signals`` SIGINTs have been sent (the
    child blocks writing: the result is larger than a pipe holds); returns the process's
    ``(returncode, stdout, stderr)`` and the bytes that came through the pipe."""
    fifo = tmp_path / "r.json"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*CLI, "enumerate", str(nets["folder"] / "net2.npz"), "-o", str(fifo), "--graph",
                             str(tmp_path / "g.json"), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    received = []

    def read_the_pipe():
        with open(fifo, "rb") as fh:  # opens once the child opens it to write
            received.append(fh.read(4096))  # the child is writing (and blocks: the pipe is full)
            for _ in range(signals):
                proc.send_signal(signal.SIGINT)
                time.sleep(0.5)
            received.append(fh.read())

    reader = threading.Thread(target=read_the_pipe, daemon=True)
    reader.start()
    out, err = proc.communicate(timeout=300)
    reader.join(60)
    return proc.returncode, out, err, b"".join(received)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO (Unix)")
def test_ctrl_c_while_writing_leaves_a_whole_file(nets, tmp_path):
    """SIGINT while the result is being written: the file is written whole, the result stays
    complete, and the steps after it are skipped."""
    code, out, err, data = _enumerate_into_a_pipe(nets, tmp_path, signals=1)
    assert code == 0, err
    report = json.loads(out)
    assert report["complete"] is True and report["interrupted_while"] == "writing the result", report
    assert report["skipped_from"] == "finding the linear regions" and "graph" not in report
    (tmp_path / "copy.json").write_bytes(data)
    back = rn.load_regions(tmp_path / "copy.json")
    assert len(back) == report["regions"] == rn.count_regions(nets["net2"], BOX2) and back.complete


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO (Unix)")
def test_second_ctrl_c_quits_at_once(nets, tmp_path):
    code, out, err, _ = _enumerate_into_a_pipe(nets, tmp_path, signals=2)
    assert code == 130 and out == "" and "quitting without a report" in err and "Traceback" not in err


@pytest.mark.parametrize("delay", [0.0, 0.1, 0.3, 1.0])
def test_ctrl_c_while_starting(delay):
    """SIGINT while the command starts (importing numpy, Numba and the package), or just after,
    never ends in a traceback: the installed command's entry point reports it. (The process
    says when the entry point is loaded, as the installed command's first lines load it; before
    that, the interpreter itself is starting.)"""
    code = "import sys, regionenum_start; print('started', flush=True); sys.exit(regionenum_start.main())"
    run = subprocess.Popen([sys.executable, "-c", code, "count", "--example", "digits_plane", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert run.stdout.readline().strip() == "started"
    time.sleep(delay)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=300)
    assert "Traceback" not in err, err[-3000:]
    report = json.loads(out)
    if run.returncode == -signal.SIGINT:  # the signal came as Python was exiting, after the report
        assert report["complete"] is True, report
    else:
        assert run.returncode == 0, err[-3000:]
        assert report["complete"] is True or report["stop_reason"] == "interrupted", report


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (Unix)")
@pytest.mark.parametrize("command", [["count", "{long}"], ["plot", "{long}", "-o", "{tmp}/p.png"],
                                     ["demo", "-o", "{tmp}/d.png"], ["bench", "{long}"],
                                     ["verify", "--example", "digits_plane"]])
def test_ctrl_c_while_compiling(nets, tmp_path, command):
    """A first run (an empty kernel cache) says once that it compiles; SIGINT then stops it
    cleanly with an (empty) result marked interrupted."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    args = [c.format(long=nets["folder"] / "long.npz", tmp=tmp_path) for c in command]
    code, out, err = _interrupt_when([*args, "--json"], "compiling the kernels", env=env)
    assert code == 0, err[-3000:]
    assert err.count("compiling the kernels for this machine") == 1 and "Traceback" not in err
    report = json.loads(out)
    assert report["complete"] is False and report["stop_reason"] == "interrupted", report


@pytest.mark.parametrize("command", [["count"], ["plot", "-o", "{tmp}/p.png"]])
def test_nothing_compiles_after_ctrl_c_while_compiling(nets, tmp_path, command):
    """Ctrl-C inside Numba's compiler can leave it unable to compile anything more in that
    process (for example with its typing registries half loaded), so the command ends there:
    no kernel starts compiling after it, and the report says it was interrupted. The signal is
    sent from inside the first compilation, so the moment is the same on every run."""
    spy = """
import os, signal, sys
from numba.core import event
from regionenum import cli

sent = []

def interrupt():
    sent.append(True)
    os.kill(os.getpid(), signal.SIGINT)

class AfterTheInterrupt(event.Listener):
    def on_start(self, ev):
        if sent:
            print("compiling after the interrupt:", ev.data["dispatcher"].py_func.__name__, file=sys.stderr)

    def on_end(self, ev):
        pass

cli._say_compiling = interrupt
event.register("numba:compile", AfterTheInterrupt())
sys.exit(cli.main(sys.argv[1:]))
"""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    args = [c.format(tmp=tmp_path) for c in command]
    run = subprocess.run([sys.executable, "-c", spy, args[0], nets["folder"] / "net2.npz", *args[1:], "--json"],
                         capture_output=True, text=True, timeout=300, env=env, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "compiling after the interrupt" not in run.stderr and "Traceback" not in run.stderr, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["complete"] is False and report["stop_reason"] == "interrupted", report


def test_readme_shows_what_the_command_line_prints(cli):
    """The README's sample output is the real one (times aside), and its numbers are the code's."""
    from pathlib import Path

    from regionenum.engine.polytope_step import MAX_DIM
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = re.search(r"```text\n\$ regionenum (.*?)\n(.*?)```", readme, flags=re.S)
    shown = block.group(2).strip().splitlines()
    printed = cli(*block.group(1).split()).stdout.strip().splitlines()
    seconds = re.compile(r"\d+\.\d+ s")
    assert [seconds.sub("T s", line) for line in printed] == [seconds.sub("T s", line) for line in shown]
    assert f"more than {MAX_DIM} dimensions" in readme


def test_count_certify(cli):
    """--certify re-checks the enumeration exactly and says what was proven."""
    out = json.loads(cli("count", "--example", "digits_plane", "--certify", "--json").stdout)
    assert out["regions"] == out["certified"]["regions"] == 1562 and out["certified"]["volume"] == "9/4"
    text = cli("count", "--example", "digits_plane", "--certify").stdout
    assert "certified in exact arithmetic: 1562 regions" in text
