"""Sound linear bounds on a network's later layers over a cell, in float64 with a rigorous
bound on the rounding.

The property-directed search (:mod:`regionenum.verify.search`) keeps cells on which the units of
the first layers have fixed states, so that the pre-activations ``z_l`` of the layer it is
deciding are an affine map ``E`` of the inputs. For the layers after ``l`` it needs bounds, and
takes them from the classic linear relaxation of each unit whose state is not fixed (a ReLU with
pre-activation in ``[lo, hi]``, ``lo < 0 < hi``, lies between the lines ``beta z`` and
``s (z - lo) + alpha lo`` with ``s = (hi - alpha lo) / (hi - lo)``, ``alpha`` the slope below
zero): a lower bound of ``Lam . a_k + c`` is found by replacing each ``a_i`` by the line below it
where ``Lam_i > 0`` and the line above it where ``Lam_i < 0``, then stepping through ``W_k`` to the
layer before, down to ``z_l = E x`` (back-substitution, as in CROWN or DeepPoly). The result is a
linear function of ``x`` below the quantity on the whole cell; its minimum over a box is a sum of
products.

Every float64 value here is within a known distance of the value exact arithmetic would give:
all quantities for unit ``j`` of layer ``k`` are sums of products bounded by ``mag[k][j]``, its
value in the *absolute network*, a bounded number of times, so the rounding is at most
``err[k][j]`` (:func:`regionenum.engine.lp_bounds.magnitudes`). Bounds are widened by it, and a
decision is taken only when its margin exceeds it.
"""
from __future__ import annotations

import numpy as np

from ..engine.lp_bounds import activation_gains, box_min, magnitudes
from ..errors import InvalidNetworkError

__all__ = ["SearchNetwork", "Relaxation"]


class SearchNetwork:
    """A network seen by the search, on one input box: its layers, which units have two states,
    and the magnitude and rounding bounds of every unit.

    Inputs with ``lo == hi`` are constants: the search runs in the other (*free*) inputs, and
    the first layer's map ``E0`` over ``(1, x_free)`` carries the constants in its first column.

    Parameters
    ----------
    network : Network
        ReLU, LeakyReLU and identity layers (linear units allowed); max layers are refused.
    lo, hi : ndarray
        The input box (float64, ``lo <= hi``).

    Attributes
    ----------
    Ws, bs : list of ndarray
        The layers; a final identity layer is appended when the network's last layer is not one.
    alpha : list of float
        Each layer's slope below zero (1 for identity layers).
    two_state : list of ndarray of bool
        Per layer, the units with two states (the others are linear).
    bit : list of ndarray of int
        Per layer, each unit's bit in the network's activation pattern (-1 for linear units).
    free, fixed : ndarray of int
        Input indices that vary, and those fixed at ``lo``.
    E0 : ndarray, shape (n_0, 1 + d_free)
        The first layer's pre-activations as an affine map of the free inputs.
    mag, err : list of ndarray
        Per layer and unit, the magnitude bound and the rounding bound of every float quantity
        computed for that unit.
    """

    def __init__(self, network, lo, hi):
        layers = list(network.layers)
        for l, layer in enumerate(layers):
            if layer.activation.kind == "max":
                raise InvalidNetworkError(f"layer {l} is a max layer (max-pooling or maxout): the "
                                          "property-directed search takes ReLU, LeakyReLU and linear "
                                          "layers")
            if layer.activation.kind == "leaky_relu" and layer.activation.alpha > 1.0:
                # such a unit is concave where it bends (min(z, alpha z)): the relaxation's chord
                # would lie below it, not above
                raise InvalidNetworkError(f"layer {l} is a LeakyReLU of slope {layer.activation.alpha:g}, "
                                          "above 1: the property-directed search's relaxation takes "
                                          "slopes up to 1 (rn.check_property decides such networks by "
                                          "enumerating their regions)")
        self.network = network
        self.lo, self.hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        self.Ws = [layer.W for layer in layers]
        self.bs = [layer.b for layer in layers]
        self.alpha, self.two_state, self.bit = [], [], []
        for l, layer in enumerate(layers):
            act = layer.activation
            states = np.zeros(layer.width, bool)
            states[network.split_units[l]] = True
            bits = np.full(layer.width, -1, np.int64)
            bits[network.split_units[l]] = network.unit_offsets[l] + np.arange(len(network.split_units[l]))
            self.two_state.append(states)
            self.bit.append(bits)
            self.alpha.append(act.off_slope if act.splits else 1.0)
        self.appended_output = bool(self.two_state[-1].any())
        if self.appended_output:  # outputs after a ReLU: an identity layer reads them
            k = layers[-1].width
            self.Ws.append(np.eye(k))
            self.bs.append(np.zeros(k))
            self.alpha.append(1.0)
            self.two_state.append(np.zeros(k, bool))
            self.bit.append(np.full(k, -1, np.int64))
        self.n_layers = len(self.Ws)
        self.free = np.flatnonzero(self.lo < self.hi)
        self.fixed = np.flatnonzero(self.lo == self.hi)
        W0, b0 = self.Ws[0], self.bs[0]
        self.E0 = np.concatenate([(b0 + W0[:, self.fixed] @ self.lo[self.fixed])[:, None], W0[:, self.free]], axis=1)
        self.mag, self.err, self.ERR = magnitudes(list(zip(self.Ws, self.bs)), self.lo, self.hi,
                                                  activation_gains(network))

    @property
    def dim(self) -> int:
        """The number of free inputs (the search's dimension)."""
        return len(self.free)

    def next_map(self, l, E, on):
        """The map ``x -> z_{l+1}`` from ``E`` (``x -> z_l``) and the states ``on`` of layer
        ``l``'s units (linear units count as on)."""
        slopes = np.where(on | ~self.two_state[l], 1.0, self.alpha[l])
        E = (self.Ws[l + 1] * slopes) @ E
        E[:, 0] += self.bs[l + 1]
        return E

    def full_input(self, X):
        """Points of the free inputs (rows of ``X``) as full network inputs."""
        X = np.atleast_2d(X)
        out = np.empty((len(X), len(self.lo)))
        out[:, self.fixed] = self.lo[self.fixed]
        out[:, self.free] = X
        return out


class Relaxation:
    """The relaxation of the layers from ``l`` on for one cell: bounds of every unit of those
    layers, the lines chosen for them, and lower bounds of linear functions of the outputs.

    Parameters
    ----------
    net : SearchNetwork
    l : int
        The first layer not fixed on the cell.
    E : ndarray, shape (n_l, 1 + d)
        ``z_l`` as an affine map of the free inputs on the cell.
    lo, hi : ndarray
        A box containing the cell (free inputs).
    bounds : list of (ndarray, ndarray)
        For layers ``l, l + 1, ...``: bounds known to hold on the cell (``lo <= z <= hi``; the
        first from the cell itself, the others possibly inherited from a larger cell, or
        infinite); tightened here.
    """

    def __init__(self, net: SearchNetwork, l: int, E, lo, hi, bounds):
        self.net, self.l, self.E, self.lo, self.hi = net, l, E, lo, hi
        self.bounds = [(b[0].copy(), b[1].copy()) for b in bounds]
        self.lines = [self._lines(l, *self.bounds[0])]
        for k in range(l + 1, net.n_layers - 1):
            self._tighten(k)
            self.lines.append(self._lines(k, *self.bounds[k - l]))

    def _lines(self, k, zlo, zhi):
        """Per unit of layer ``k``: the slope of the line below, the slope and intercept of the
        line above (a unit fixed on, or linear: 1, 1, 0; fixed off: alpha, alpha, 0)."""
        net = self.net
        alpha = net.alpha[k]
        two = net.two_state[k]
        on = (zlo >= 0) | ~two
        off = two & (zhi <= 0)
        mixed = ~on & ~off
        below = np.where(on, 1.0, alpha)
        above = below.copy()
        icpt = np.zeros_like(zlo)
        if mixed.any():
            l_, h_ = zlo[mixed], zhi[mixed]
            # the chord from (lo, alpha lo) to (hi, hi), its slope rounded up (a steeper line
            # through (lo, alpha lo) is still above the activation on [lo, hi])
            s = np.nextafter((h_ - alpha * l_) / (h_ - l_), np.inf)
            above[mixed] = s
            icpt[mixed] = alpha * l_ - s * l_
            below[mixed] = np.where(h_ > -l_, 1.0, alpha)
        return below, above, icpt

    def _substitute(self, k, Lam, c):
        """Lower bound of ``Lam . a_k + c`` (rows of ``Lam`` over layer ``k``'s outputs) as an
        affine function of ``x``: ``(A, c)``."""
        net = self.net
        for j in range(k, self.l - 1, -1):
            below, above, icpt = self.lines[j - self.l]
            neg = Lam < 0
            c = c + np.where(neg, Lam, 0.0) @ icpt
            Lam = Lam * np.where(neg, above, below)
            if j > self.l:
                c = c + Lam @ net.bs[j]
                Lam = Lam @ net.Ws[j]
        return Lam @ self.E[:, 1:], c + Lam @ self.E[:, 0]

    def _tighten(self, k):
        """Bounds of layer ``k``'s units not yet fixed, by back-substitution, widened by their
        rounding bound and intersected with what was known."""
        net = self.net
        zlo, zhi = self.bounds[k - self.l]
        todo = np.flatnonzero(net.two_state[k] & (zlo < 0) & (zhi > 0))
        if not len(todo):
            return
        W, b = net.Ws[k][todo], net.bs[k][todo]
        A, c = self._substitute(k - 1, np.concatenate([W, -W]), np.concatenate([b, -b]))
        low = box_min(A, c, self.lo, self.hi)
        n = len(todo)
        e = net.err[k][todo]
        zlo[todo] = np.maximum(zlo[todo], low[:n] - e)
        zhi[todo] = np.minimum(zhi[todo], -low[n:] + e)

    def output_rows(self, C, e):
        """Affine lower bounds ``L_i(x) = A_i x + c_i`` of the rows of ``C y + e`` on the cell,
        already lowered by their rounding bound; and that bound's size (for the margins)."""
        net = self.net
        last = net.n_layers - 1
        if last == self.l:  # the cell is past every two-state layer: outputs are E x exactly
            A, c = C @ self.E[:, 1:], C @ self.E[:, 0] + e
        else:
            A, c = self._substitute(last - 1, C @ net.Ws[last], C @ net.bs[last] + e)
        err = net.ERR * (np.abs(C) @ net.mag[last] + np.abs(e))
        return A, c - err, err

    def unfixed(self, k):
        """Units of layer ``k`` (``>= l``) with two states whose state is not fixed by the bounds."""
        zlo, zhi = self.bounds[k - self.l]
        return np.flatnonzero(self.net.two_state[k] & (zlo < 0) & (zhi > 0))
