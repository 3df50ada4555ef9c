"""docs/verification.md: its Python examples run, and the numbers it quotes are the code's."""
import re
from pathlib import Path

import numpy as np

import regionenum as rn

DOC = Path(__file__).resolve().parents[2] / "docs" / "verification.md"


def test_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 2
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})


def test_closed_loop_numbers():
    text = DOC.read_text()
    dt, k = 0.1, np.array([0.9171, 1.6356])
    A, B = np.array([[1.0, dt], [0.0, 1.0]]), np.array([[dt * dt / 2], [dt]])
    controller = rn.Network.from_layers([(np.array([-k, -k]), np.array([1.0, -1.0])),
                                         (np.array([[1.0, -1.0]]), np.array([-1.0]))])
    step = rn.verify.closed_loop(controller, A=A, B=B)
    sets = rn.verify.forward_reachable(step, rn.Box([-3.0, -1.0], [3.0, 1.0]), steps=12)
    lo, hi = sets[-1].bounds()
    assert f"a union of {len(sets[0])} polytopes" in text
    assert f"[{lo[0]:.3f}, {hi[0]:.3f}] x [{lo[1]:.3f}, {hi[1]:.3f}]" in text
    x = rn.verify.is_invariant(step, rn.Box([-1, -1], [1, 1])).counterexample
    y = step(x[None])[0]
    assert f"`({x[0]:g}, {x[1]:g})` steps to `({y[0]:.4g}," in text
