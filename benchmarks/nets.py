"""The standard benchmark suite: python benchmarks/nets.py [OUTDIR]   (default benchmarks/nets/)

Every net is an ``.npz`` with ``W0, b0, W1, b1, ...`` (``W`` of shape ``(out, in)``), ReLU after
every layer but the last, and the input box ``lo, hi``; regionenum reads it with
``regionenum.load``. The random nets are He-initialised MLPs on ``[-1, 1]^d``, the ``i``-th of
the suite drawn from ``numpy.random.default_rng(i)``; ``digits_plane`` is a 64-64-64-10 ReLU MLP
trained on scikit-learn's digits (``random_state=0``), restricted to the plane through the first
three training images (``t = (0, 0), (1, 0), (0, 1)`` are the images) on ``[-0.25, 1.25]^2``;
``digits_full`` is the same classifier on all 64 inputs with that plane's ``origin`` and
``basis``. The arrays are the same, bit for bit, as the ones the project's shared generator
writes (same seeds, same draws, same order); ``tests`` check it where that generator is at hand.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

#: name -> widths ``[inputs, hidden..., outputs]``; the position in this table is the net's seed
SUITE = {
    "r2_small": [2, 32, 32, 32, 1],
    "r2_mid": [2, 64, 64, 64, 64, 1],
    "r2_wide": [2, 256, 256, 1],
    "r2_deep": [2] + [32] * 12 + [1],
    "r2_big": [2] + [128] * 6 + [1],
    "r3_small": [3, 32, 32, 32, 1],
    "r4_small": [4, 16, 16, 16, 1],
    "r1_deep": [1] + [512] * 8 + [1],
}
DEFAULT_DIR = Path(__file__).resolve().parent / "nets"


def random_mlp(widths, seed: int, bias_std: float = 0.1) -> list:
    """He-initialised layers ``[(W, b), ...]``: ``W ~ N(0, 2 / fan_in)``, ``b ~ N(0, bias_std^2)``,
    drawn layer by layer from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
        b = rng.normal(0.0, bias_std, size=fan_out)
        layers.append((W, b))
    return layers


def _arrays(layers, lo, hi) -> dict:
    out = {}
    for i, (W, b) in enumerate(layers):
        out[f"W{i}"] = np.asarray(W, np.float64)
        out[f"b{i}"] = np.asarray(b, np.float64)
    out["lo"] = np.asarray(lo, float)
    out["hi"] = np.asarray(hi, float)
    return out


def random_nets() -> dict:
    """The suite's random nets: name -> arrays as stored."""
    return {name: _arrays(random_mlp(widths, seed), -np.ones(widths[0]), np.ones(widths[0]))
            for seed, (name, widths) in enumerate(SUITE.items())}


def digits_nets() -> dict:
    """``digits_plane`` and ``digits_full`` (trains the classifier: needs scikit-learn, a few
    seconds): name -> arrays as stored."""
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    clf = MLPClassifier(hidden_layer_sizes=(64, 64, 64), activation="relu", max_iter=300,
                        random_state=0).fit(X, y)
    Ws = [c.T for c in clf.coefs_]
    bs = list(clf.intercepts_)
    a, b, c = X[0], X[1], X[2]
    U = np.stack([b - a, c - a], axis=1)  # (64, 2): the plane's basis
    layers = [(Ws[0] @ U, Ws[0] @ a + bs[0])] + list(zip(Ws[1:], bs[1:]))
    full = {**{f"W{i}": W for i, W in enumerate(Ws)}, **{f"b{i}": v for i, v in enumerate(bs)},
            "origin": a, "basis": U, "lo": np.array([-0.25, -0.25]), "hi": np.array([1.25, 1.25])}
    return {"digits_plane": _arrays(layers, [-0.25, -0.25], [1.25, 1.25]), "digits_full": full}


def write_suite(out_dir=DEFAULT_DIR, digits: bool = True) -> Path:
    """Write every net of the suite into ``out_dir`` (created if needed); returns it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nets = random_nets()
    if digits:
        nets.update(digits_nets())
    for name, arrays in nets.items():
        np.savez(out_dir / f"{name}.npz", **arrays)
    return out_dir


if __name__ == "__main__":
    print(write_suite(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR))
