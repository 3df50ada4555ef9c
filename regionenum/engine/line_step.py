"""Counts on one input: cells are intervals, each layer's values kept at their ends.

On one input every cell is an interval and every unit of the next layer is affine on it, so the
unit cuts the cell exactly when its values at the interval's two ends have strictly opposite
signs. :class:`LineStep` keeps, for a run of consecutive breakpoints, the layer's values at each
breakpoint: one vector per breakpoint, shared by the two intervals meeting there, where the
general step (:mod:`~regionenum.engine.polytope_step`) makes two rows per cell (so half the
matrix products on wide layers). A new breakpoint's values are interpolated between its
interval's ends. Every sign the count reads is proven by rigorous error bounds; where one is
not, :meth:`LineStep.process` raises :class:`Unproven` and the count runs on the general step
instead (:func:`~regionenum.engine.api.count_regions`).

The proof. A breakpoint ``i`` is an exact point ``r_i`` (a domain end, or the root of a unit on
its interval); it is represented by values ``Z_i`` that approximate, at a real point ``x_i``
near ``r_i`` (never computed: it is defined by the interpolation weights used), the affine
extension ``A`` of the layer's pre-activations from either interval beside ``r_i``. Two bounds
per breakpoint, on 2-norms, carry the proof from layer to layer:

- ``a_i >= ||Z_i - A(x_i)||`` for the extensions of both sides (rounding errors);
- ``c_i >= ||A(x_i) - z(r_i)||`` (how far ``x_i`` is from the exact breakpoint, in values).

So unit ``v``'s value at the exact breakpoint is within ``||W_v||_2 (a + c) + gamma_(n+1)
(||W_v||_2 ||h|| + |b_v|) + (n + 2) eta`` of the computed one (Cauchy-Schwarz with the rows'
proven norms, Higham's bound on a dot product's rounding, ``eta`` for underflow), and a sign is
proven when the computed value is beyond that. A layer adds ``||W||_2`` (its proven bound) to
both and its rounding to ``a``. Each breakpoint's units then have strict signs at ``r_i``, so
both intervals beside it share its pattern ``D`` but for the unit whose root it is; the next
layer's inputs are computed as ``D Z`` (not ``relu(Z)``, which could disagree with ``D`` where
``A(x_i)`` and ``z(r_i)`` differ), with the root's own unit set to 0: its value there,
``|A_u(x_i)| <= |Z_u| + a_u``, joins ``a``.

A root of unit ``u`` in the interval ``(r_i, r_(i+1))`` gets ``Z = Z_i + t (Z_(i+1) - Z_i)``
with ``t`` the float root of the interpolation, ``t`` in ``[0, 1]``: ``A`` is affine, so its
``a`` is at most the larger of the ends' plus the interpolation's rounding, and its ``c`` is
``||A(x) - A(r)|| = (||S|| / |S_u|) |A_u(x)|`` for the interval's slope vector ``S``, whose ratio
of norms is bounded from the ends' values at the exact breakpoints. Several roots in one
interval are put in order by ``t`` and the order is proven: at each root, the next root's unit
still has, strictly, the sign of the interval's left end (so the two roots are distinct and in
that order); the order gives every crossing unit's state at every root. Then the count, the
intervals after the last layer that splits, is proven.

As on the general step, a value within ``tol`` times its size of zero is not trusted even where
its bound proves its sign. Units whose weights and bias are all zero are exactly zero
everywhere and cut nothing.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from ..core.domain import Box
from ..core.network import LAYER_BOUNDS, keep_bounds
from ..core.norm_bounds import norms_from_squares, row_norms_of
from ..core.threads import blas_on_one_thread, idle_cpus
from ..core.tolerances import ETA, U, gamma
from .driver import Entry, Tally
from .kernels.breakpoints import SLACK, UP, interpolate, layer_inputs, prove_roots, prove_signs

__all__ = ["LineStep", "Unproven", "applies"]

#: The kinds of activation this step reads (a max layer's winner is not a sign).
KINDS = ("relu", "leaky_relu", "identity")
#: The most values of new breakpoints one run makes at once (float64s: 256 MB). A run of few
#: intervals cut by a very wide layer would make more (each root holds the layer's values): it
#: is left to the general step, which splits such cells in stages.
MOST_VALUES = 1 << 25


class Unproven(Exception):
    """Raised by :meth:`LineStep.process` where its error bounds do not prove a sign: the count
    is then run on the general step, whose stronger stages settle it."""


def applies(network, domain) -> bool:
    """Whether :class:`LineStep` counts ``network``'s regions on ``domain``: one input on a
    :class:`~regionenum.Box` (its ends are exact), layers of ReLU, LeakyReLU and identity
    units, and a layer that splits."""
    return (isinstance(domain, Box) and domain.dim == 1 and bool(network.split_layers)
            and all(layer.activation.kind in KINDS for layer in network.layers))


class Breakpoints:
    """A run of consecutive breakpoints waiting for a layer: its inputs ``H`` (one row per
    breakpoint, with a last column of ones for the bias), bounds ``h`` on their 2-norms (the
    ones left out) and the bounds ``a`` and ``c`` on their errors (see the module's
    description). Its length is its number of intervals."""

    def __init__(self, H, h, a, c):
        self.H, self.h, self.a, self.c = H, h, a, c

    def __len__(self) -> int:
        return len(self.H) - 1

    def rows(self):
        """What the driver's entry hands over (the breakpoints themselves)."""
        return self


class LineStep:
    """Count the regions of ``network`` on a one-input :class:`~regionenum.Box` (see the
    module's description), runs of at most ``batch_size`` intervals at a time. A value within
    ``tol`` times its size (``||W_v||_2 ||h||_2 + |b_v|``) of zero is not trusted even where its
    bound would prove its sign, as the general step settles such signs exactly: it hands the
    count on."""

    keep = False
    bounds = None

    def __init__(self, network, domain, tol: float, batch_size: int):
        self.net = network
        self.domain = domain
        self.tol = float(tol)
        self.batch_size = int(batch_size)
        self.last_split = max(network.split_layers)
        # per layer, the units that may cut an interval: those with several states, but for units
        # whose weights and bias are all zero (pruned ones): their value is exactly zero
        # everywhere (each product and sum is), so they cut nothing, and D Z is zero for them
        self.splits = []
        for layer, units in zip(network.layers, network.split_units):
            mask = np.zeros(layer.width, np.bool_)
            mask[units] = True
            mask &= np.any(layer.W != 0, axis=1) | (layer.b != 0)
            self.splits.append(mask)

    def start(self, tally: Tally) -> list:
        """One run: the domain's ends. The layers' bounds not yet known are worked out beside it
        (:class:`LayerBounds`)."""
        self.bounds = LayerBounds(self.net.layers)
        x = np.array([self.domain.lo[0], self.domain.hi[0]])
        ends = Breakpoints(np.stack([x, np.ones(2)], axis=1), np.abs(x), np.zeros(2), np.zeros(2))
        return [Entry(0, ends, ends.rows)]

    def assembly_seconds(self) -> float:
        """Nothing is kept to assemble."""
        return 0.0

    def close(self) -> None:
        """Stop working out the layers' bounds (the run is over)."""
        if self.bounds is not None:
            self.bounds.close()

    def process(self, entry: Entry, tally: Tally) -> list:
        """The layer's values at the run's breakpoints, its roots as new breakpoints (raising
        :class:`Unproven` where a sign is not proven), and the next layer's runs, or the count
        after the last layer that splits."""
        l, points = entry.layer, entry.cells
        layer = self.net.layers[l]
        self.bounds.wait(l, tally.check)
        with np.errstate(over="ignore", invalid="ignore"):  # an infinite or NaN bound proves nothing
            values = LayerValues(layer, points, self.tol)
            found = values.split(self.splits[l]) if self.splits[l].any() else None  # None: nothing to split
            if found is not None:
                tally.signs[0] += found.decided
            if l >= self.last_split:
                n = tally.room((len(values.Z) if found is None else len(found.order)) - 1)
                tally.count += n
                tally.bounded += n
                return []
            H, h, a, c = values.passed_on() if found is None else found.inputs(layer.activation.off_slope)
        return [Entry(l + 1, run, run.rows) for run in _runs(H, h, a, c, self.batch_size)]


class LayerBounds:
    """The layers' proven bounds (:data:`~regionenum.core.network.LAYER_BOUNDS`) not yet known,
    worked out in a thread of their own, layer after layer with BLAS on one thread, while the
    count goes on: a layer waits only for its own. A count's first layers are little work, so
    on two cores r1_deep's seven certificates (about 30 ms at its start) were mostly done by
    the time each was needed. Without bounds to work out, or without an idle core, nothing is
    started."""

    def __init__(self, layers):
        self.layers = layers
        self.ready = [threading.Event() for _ in layers]
        self.stopped = False
        self.thread = None
        if all(name in vars(layer) for layer in layers for name in LAYER_BOUNDS) or idle_cpus() < 2:
            for layer, ready in zip(layers, self.ready):
                keep_bounds(layer)  # (none where all are known)
                ready.set()
            return
        self.thread = threading.Thread(target=self._work, name="regionenum-bounds", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        try:
            with blas_on_one_thread():
                for layer, ready in zip(self.layers, self.ready):
                    if self.stopped:
                        break
                    keep_bounds(layer)
                    ready.set()
        finally:
            for ready in self.ready:  # a layer whose bounds are missing works them out when read
                ready.set()

    def wait(self, l: int, check) -> None:
        """Return once layer ``l``'s bounds are known, calling ``check`` (the run's budgets)
        while waiting."""
        while not self.ready[l].wait(0.002):
            check()

    def close(self) -> None:
        """Stop after the layer at work, and wait for it."""
        self.stopped = True
        if self.thread is not None:
            self.thread.join()


class LayerValues:
    """A layer's pre-activations ``Z`` at a run's breakpoints, with their bounds ``a`` and ``c``
    (2-norms), and what the same bounds unit by unit are made of: ``||W_v||_2 alpha_i +
    beta_v`` (rounding, ``alpha`` per breakpoint and ``beta`` per unit) and ``||W_v||_2 c_i``
    (with ``c`` of the inputs, ``c_in``). Their sum bounds each value's distance from the one
    at the exact breakpoint. A sign is trusted beyond that and the tolerance band, ``tol``
    times ``||W_v||_2 h_i + |b_v|`` (``band_h`` and ``band_b``)."""

    def __init__(self, layer, points: Breakpoints, tol: float):
        H, h = points.H, points.h
        self.Z = H @ layer.weights_and_bias_T  # the bias a term of each sum
        n_in = H.shape[1] - 1
        g = gamma(n_in + 1)
        floor = (n_in + 2) * ETA
        self.rn = layer.row_norms
        self.alpha = points.a + g * h
        self.beta = g * np.abs(layer.b) + floor
        self.c_in = points.c
        self.band_h, self.band_b = tol * h, tol * np.abs(layer.b)
        W2 = layer.norm_bounds[0]
        F = float(norms_from_squares(np.dot(self.rn, self.rn)[None], layer.width)[0]) * UP  # >= ||W||_F
        self.a = (W2 * points.a + g * (F * h + layer.bias_norm) + math.sqrt(layer.width) * floor) * UP + SLACK
        self.c = W2 * points.c * UP + SLACK

    def passed_on(self):
        """The next layer's inputs where this layer's units have one state: the values
        themselves (and a column of ones), bounds on their 2-norms, ``a`` and ``c``."""
        Z = self.Z
        return np.hstack([Z, np.ones((len(Z), 1))]), row_norms_of(Z), self.a, self.c

    def split(self, splits) -> Roots:
        """The layer's roots between the breakpoints, proven (:class:`Roots`); raises
        :class:`Unproven` where a sign is not."""
        Z = self.Z
        states, ok, at, u = prove_signs(Z, self.alpha, self.c_in, self.rn, self.beta, splits, self.band_h,
                                        self.band_b)
        if not ok:
            raise Unproven("a sign at a breakpoint is within its error bound")
        n, width = Z.shape
        if len(at) * width > MOST_VALUES:
            raise Unproven(f"{len(at)} roots of {width} values each: more than this step holds at once")
        new, t, steps, ends = interpolate(Z, at, u)
        new_states, q, reach, failed = prove_roots(Z, new, at, u, t, states, self.rn, self.alpha, self.c_in,
                                                   self.beta, self.band_h, self.band_b)
        if failed:
            raise Unproven(("a root's slope", "the order of two roots in one interval")[failed - 1]
                           + " is not proven")
        # the roots' bounds: a from the ends' (A is affine) and the interpolation's rounding
        # (|fl(z + t (z' - z)) - (z + t (z' - z))| <= 3.2 u (|z| + |z'|) + 2 eta, and
        # ||z|| + ||z'|| <= sqrt(2 (||z||^2 + ||z'||^2))), c from |A_u| there
        a = (np.maximum(self.a[at], self.a[at + 1]) + 3.2 * U * math.sqrt(2) * norms_from_squares(ends, 2 * width)
             + 2 * math.sqrt(width) * ETA) * UP
        spans = (norms_from_squares(steps, width) + self.a[at] + self.c[at] + self.a[at + 1] + self.c[at + 1]) * UP
        c = spans * reach * UP + SLACK
        # every breakpoint in order: old i before the roots in interval i, those in the order of t
        order = np.lexsort((np.concatenate([np.full(n, -1.0), t]), np.concatenate([np.arange(n), at])))
        decided = int(splits.sum()) * n + len(at) - len(np.unique(at))  # signs, then orders
        return Roots(Z, new, order, states, new_states, splits, np.concatenate([np.full(n, -1), u])[order],
                     np.concatenate([self.a, a])[order], np.concatenate([self.c, c])[order],
                     np.concatenate([np.zeros(n), q])[order], decided)


class Roots:
    """A layer's breakpoints after its roots: the old ones' values ``Z`` and the roots' ``new``,
    in ``order``, with their proven states, the unit each root belongs to (``roots``, -1 for the
    old breakpoints), the bounds ``a`` and ``c``, ``q`` (the bound on a root's own unit's value
    there) and how many signs were decided."""

    def __init__(self, Z, new, order, states, new_states, splits, roots, a, c, q, decided):
        self.Z, self.new, self.order = Z, new, order
        self.states, self.new_states, self.splits = states, new_states, splits
        self.roots, self.a, self.c, self.q, self.decided = roots, a, c, q, decided

    def inputs(self, off: float):
        """The next layer's inputs ``D Z`` at the breakpoints (each unit's slope from its proven
        state, ``off`` where off, a root's own unit 0, and a column of ones), bounds on their
        2-norms and their bounds ``a`` and ``c``."""
        H, squares = layer_inputs(self.Z, self.new, self.order, self.states, self.new_states, self.splits, off,
                                  self.roots)
        h = norms_from_squares(squares, H.shape[1] - 1)
        lip = max(1.0, abs(off))
        a = lip * (self.a + self.q)
        if off not in (0.0, 1.0):  # the off units' products round (relatively, or below the normal range)
            a = a + U * h + math.sqrt(H.shape[1]) * ETA
        return H, h, a * UP + SLACK, lip * self.c * UP + SLACK


def _runs(H, h, a, c, size: int) -> list:
    """Runs of at most ``size`` intervals, consecutive ones sharing their end breakpoint."""
    n = len(H) - 1
    return [Breakpoints(H[lo:hi + 1], h[lo:hi + 1], a[lo:hi + 1], c[lo:hi + 1])
            for lo, hi in ((lo, min(lo + size, n)) for lo in range(0, n, size))]

