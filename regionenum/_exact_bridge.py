"""How jitted kernels reach the exact-arithmetic oracle for signs too close to call in float64.

A kernel calls :func:`exact_sign` from an ``objmode`` block; the engine installs the oracle that
answers for the batch being processed with :func:`using_oracle`. A context variable keeps
concurrent enumerations (threads) apart.
"""
from __future__ import annotations

import contextlib
import contextvars

_ORACLE = contextvars.ContextVar("regionenum_exact_oracle", default=None)


@contextlib.contextmanager
def using_oracle(oracle):
    """Make ``oracle`` answer :func:`exact_sign` calls inside the ``with`` block."""
    token = _ORACLE.set(oracle)
    try:
        yield oracle
    finally:
        _ORACLE.reset(token)


def exact_sign(cell, incidence, hyperplane, generator) -> int:
    """Exact sign (-1, 0, 1) of local ``hyperplane`` at the generator of ``cell`` whose tight
    constraints are ``incidence``; ``generator`` is its float64 approximation (homogeneous)."""
    oracle = _ORACLE.get()
    if oracle is None:
        raise RuntimeError("a kernel asked for an exact sign outside of an enumeration")
    return oracle.sign(int(cell), incidence, int(hyperplane), generator)
