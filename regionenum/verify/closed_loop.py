"""Closed loops: a ReLU controller driving a plant, unrolled over time, with exact reachable
sets, preimages and invariance.

The plant is affine, ``x' = A x + B u + c``, or piecewise affine, given as a network of
``(x, u)``. :func:`closed_loop` builds the network of one step, ``x -> x'``: the controller's
layers with the state carried alongside through linear units, then ``[B | A]`` (or the plant's
network) on ``(u, x)``; no weight is multiplied by another, so the step network is the loop
exactly. :func:`unroll` chains ``k`` steps into one network whose outputs are the states
``x_1, ..., x_k`` (or ``x_k`` alone).

On every activation region of that network each state is an affine map of ``x_0``, so

* the *forward reachable set* of a bounded set of initial states (:func:`forward_reachable`)
  is, at each step, the union of the images of the regions: a :class:`ReachSet` of pieces, each
  a region's inequalities with the affine map (an exact description in any dimension, with the
  image's vertices where the region has them);
* the *backward reachable set* of a polytope (:func:`preimage`) is the union over regions of
  the region's inequalities with the target's rows pulled back: a :class:`Preimage` of
  H-polytopes;
* a polytope ``P`` is *invariant* when every step from ``P`` stays in ``P``: each of its rows is
  a property of the step network on ``P``, decided by the property-directed search
  (:func:`is_invariant`), with a proof or a counterexample.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.arrays import checked_flag, checked_index, checked_instance, float_array, whole_number
from ..core.domain import Polytope
from ..core.network import Activation, Network
from ..engine.api import enumerate_regions
from ..engine.kernels.simplex import OPTIMAL, solve_lp
from ..engine.lp_bounds import safe_lower_bounds
from ..errors import (ArgumentTypeError, InternalError, InvalidArgumentError, InvalidDomainError,
                      InvalidNetworkError)
from .search import verify_property

__all__ = ["ReachSet", "Preimage", "closed_loop", "unroll", "forward_reachable", "preimage", "is_invariant",
           "plot_reachable", "simulate"]


def _matrix(value, name, shape=None):
    arr = np.atleast_2d(float_array(value, name))
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(f"{name} must be finite")
    if shape is not None and arr.shape != shape:
        raise InvalidArgumentError(f"{name} must have shape {shape}, got {arr.shape}")
    return arr


def closed_loop(controller: Network, A=None, B=None, c=None, plant: Network | None = None) -> Network:
    """The network of one step of the loop ``x' = A x + B u(x) + c`` (or ``x' = plant(x, u)``).

    Parameters
    ----------
    controller : Network
        ``u(x)``: ``n`` inputs (the state), ``m`` outputs; ReLU, LeakyReLU or identity layers.
    A, B : array_like, shapes (n, n) and (n, m)
        An affine plant (with ``c``, shape ``(n,)``, default 0).
    plant : Network, optional
        A piecewise-affine plant instead: ``n + m`` inputs ``(x, u)`` in that order, ``n``
        outputs.

    Returns
    -------
    Network
        ``n`` inputs, ``n`` outputs: the next state.

    Raises
    ------
    ArgumentTypeError, InvalidArgumentError, InvalidNetworkError
        Missing, mismatched or doubly given plant, shapes that do not fit, max layers.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> K = rn.Network.from_layers([(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.zeros(2)),
    ...                             (np.array([[1.0, -1.0]]), np.zeros(1))])   # u = -(x0 + x1)
    >>> step = rn.verify.closed_loop(K, A=[[1, 0.1], [0, 1]], B=[[0.005], [0.1]])
    >>> step(np.array([[1.0, 0.0]])).round(4).tolist()
    [[0.995, -0.1]]
    """
    checked_instance(controller, Network, "controller", "a regionenum.Network")
    n, m = controller.input_dim, controller.output_dim
    if any(layer.activation.kind == "max" for layer in controller.layers):
        raise InvalidNetworkError("closed loops take controllers of ReLU, LeakyReLU and linear layers")
    if plant is not None and (A is not None or B is not None or c is not None):
        raise InvalidArgumentError("give the plant once: A and B (x' = A x + B u + c), or plant=network, "
                                   "not both")
    layers = []
    width = n  # x travels along as the last n units of every layer
    for l, layer in enumerate(controller.layers):
        k = layer.width
        W = np.zeros((k + n, width))
        W[:k, :layer.W.shape[1]] = layer.W
        W[k:, width - n:] = np.eye(n)
        b = np.concatenate([layer.b, np.zeros(n)])
        act = layer.activation
        if act.kind == "identity":
            activation = Activation("identity")
        else:
            activation = Activation(act.kind, act.alpha, linear=tuple(act.linear) + tuple(range(k, k + n)))
        layers.append((W, b, activation))
        width = k + n
    # the last layer gives (u, x); the plant takes it
    if plant is None:
        if A is None or B is None:
            raise InvalidArgumentError("give the plant: A and B (x' = A x + B u + c), or plant=network")
        A = _matrix(A, "A", (n, n))
        B = _matrix(B, "B", (n, m))
        c = np.zeros(n) if c is None else _matrix(c, "c", (1, n))[0]
        layers.append((np.concatenate([B, A], axis=1), c, Activation("identity")))
    else:
        checked_instance(plant, Network, "plant", "a regionenum.Network")
        if plant.input_dim != n + m or plant.output_dim != n:
            raise InvalidNetworkError(f"the plant must take (x, u): {n + m} inputs, and give {n} outputs; it takes "
                                      f"{plant.input_dim} and gives {plant.output_dim}")
        first = plant.layers[0]
        # the plant reads (x, u); the controller gives (u, x): permute its first layer's columns
        layers.append((np.concatenate([first.W[:, n:], first.W[:, :n]], axis=1), first.b, first.activation))
        layers += [(layer.W, layer.b, layer.activation) for layer in plant.layers[1:]]
    return Network.from_layers([(W, b) for W, b, _ in layers], [a for _, _, a in layers])


def unroll(step: Network, steps: int, all_states: bool = True) -> Network:
    """Chain ``steps`` copies of a step network (``n`` inputs, ``n`` outputs) into one network
    of ``x_0``.

    Parameters
    ----------
    step : Network
        From :func:`closed_loop`.
    steps : int
    all_states : bool
        Outputs ``x_1, ..., x_k`` concatenated (``k n`` outputs) when True, ``x_k`` alone otherwise.

    Returns
    -------
    Network

    Raises
    ------
    ArgumentTypeError
        ``step`` is not a :class:`~regionenum.Network`, or ``all_states`` not a bool.
    InvalidNetworkError
        ``step`` has not as many outputs as inputs.
    InvalidArgumentError
        ``steps`` is not a positive integer.
    """
    checked_instance(step, Network, "step", "a regionenum.Network")
    all_states = checked_flag(all_states, "all_states")
    n = step.input_dim
    if step.output_dim != n:
        raise InvalidNetworkError(f"a step network maps states to states: it has {n} inputs but "
                                  f"{step.output_dim} outputs")
    steps = whole_number(steps, "steps")
    layers = []
    carried = 0  # earlier states travel along as the last `carried` units
    for t in range(steps):
        for l, layer in enumerate(step.layers):
            k, w_in = layer.width, layer.W.shape[1]
            keep = carried if all_states else 0
            W = np.zeros((k + keep, w_in + keep))
            W[:k, :w_in] = layer.W
            W[k:, w_in:] = np.eye(keep)
            b = np.concatenate([layer.b, np.zeros(keep)])
            act = layer.activation
            if act.kind == "identity":
                activation = act
            else:
                activation = Activation(act.kind, act.alpha, linear=tuple(act.linear) + tuple(range(k, k + keep)))
            layers.append((W, b, activation))
        if all_states and t < steps - 1:
            # the new state goes on as the next step's input and joins the carried ones (last)
            W = np.zeros((2 * n + carried, n + carried))
            W[:n, :n] = np.eye(n)
            W[n:n + carried, n:] = np.eye(carried)
            W[n + carried:, :n] = np.eye(n)
            layers.append((W, np.zeros(2 * n + carried), Activation("identity")))
            carried += n
    if all_states and steps > 1:  # the last layer holds (x_k, x_1, ..., x_{k-1}): time order
        n_out = n + carried
        P = np.zeros((n_out, n_out))
        P[:carried, n:] = np.eye(carried)
        P[carried:, :n] = np.eye(n)
        layers.append((P, np.zeros(n_out), Activation("identity")))
    return Network.from_layers([(W, b) for W, b, _ in layers], [a for _, _, a in layers])


def simulate(step: Network, X0, steps: int) -> np.ndarray:
    """Trajectories of the loop from the rows of ``X0``: shape ``(len(X0), steps + 1, n)``.

    The step network is evaluated in float64, one step after another; this is for drawing and
    spot checks (see :func:`plot_reachable`), not for exact answers.

    Parameters
    ----------
    step : Network
        ``n`` inputs and ``n`` outputs, for example from :func:`closed_loop`.
    X0 : array_like, shape (m, n) or (n,)
        The initial states, one per row (a single vector is one trajectory).
    steps : int
        How many steps to take (zero gives the initial states alone).

    Returns
    -------
    ndarray, shape (m, steps + 1, n)
        ``out[i, t]`` is the state of trajectory ``i`` after ``t`` steps; ``out[:, 0]`` is
        ``X0``.

    Raises
    ------
    InvalidNetworkError
        The states do not have the network's ``n`` inputs.
    ArgumentTypeError
        ``step`` is not a Network, ``X0`` not numbers or ``steps`` not an integer.
    InvalidArgumentError
        ``steps`` is negative.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> K = rn.Network.from_layers([(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.zeros(2)),
    ...                             (np.array([[1.0, -1.0]]), np.zeros(1))])   # u = -(x0 + x1)
    >>> step = rn.verify.closed_loop(K, A=[[1, 0.1], [0, 1]], B=[[0.005], [0.1]])
    >>> rn.verify.simulate(step, [1.0, 0.0], steps=2).round(4).tolist()
    [[[1.0, 0.0], [0.995, -0.1], [0.9805, -0.1895]]]
    """
    checked_instance(step, Network, "step", "a regionenum.Network")
    steps = whole_number(steps, "steps", least=0)
    X = np.atleast_2d(float_array(X0, "X0"))
    out = [X]
    for _ in range(steps):
        X = step(X)
        out.append(X)
    return np.stack(out, axis=1)


@dataclass
class ReachSet:
    """The states reachable at one step, exactly: the union over ``pieces`` of the images of
    polytopes. Piece ``i`` is ``{J_i x + c_i : x in region i}``, with the region's facets
    ``(equations [a | b], a x + b <= 0)``; ``vertices[i]`` is the image's vertex list (the
    images of the region's vertices; None for regions found by inequalities only)."""

    step: int
    facets: list
    maps: list
    vertices: list

    def __len__(self) -> int:
        return len(self.maps)

    def bounds(self):
        """The smallest box around the set: ``(lo, hi)`` (linear programmes per piece and
        coordinate, float64)."""
        n = self.maps[0][0].shape[0]
        lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
        for (J, c), eq, V in zip(self.maps, self.facets, self.vertices):
            if V is not None and len(V):
                lo, hi = np.minimum(lo, V.min(axis=0)), np.maximum(hi, V.max(axis=0))
                continue
            for k in range(n):
                for sign in (1.0, -1.0):
                    x = _lp_point(eq, sign * J[k])
                    v = J[k] @ x + c[k]
                    lo[k], hi[k] = min(lo[k], v), max(hi[k], v)
        return lo, hi

    def polygons(self, dims=(0, 1)) -> list:
        """Each piece projected on two state coordinates: its vertices in counter-clockwise
        order (a segment or a point where the map is degenerate). Needs the pieces' vertices.

        Parameters
        ----------
        dims : pair of int, optional
            The state coordinates to project on, as ``(horizontal, vertical)``; default the
            first two (negative ones count from the last).

        Returns
        -------
        list of ndarray, shape (m_i, 2)
            One array per piece, in piece order: the convex hull of its projected vertices,
            counter-clockwise, collinear points dropped (``m_i <= 2`` for a segment or a
            point).

        Raises
        ------
        InvalidArgumentError
            The pieces have no vertices: the regions were enumerated by their inequalities
            (more than five state dimensions); use :meth:`bounds` and :meth:`contains`.
        IndexError, ArgumentTypeError
            ``dims`` is not a pair of state coordinates.

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> K = rn.Network.from_layers([(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.zeros(2)),
        ...                             (np.array([[1.0, -1.0]]), np.zeros(1))])
        >>> step = rn.verify.closed_loop(K, A=[[1, 0.1], [0, 1]], B=[[0.005], [0.1]])
        >>> sets = rn.verify.forward_reachable(step, rn.Box([0.9, -0.1], [1.1, 0.1]), steps=1)
        >>> [len(p) for p in sets[0].polygons()]    # the box's image is a parallelogram
        [4]
        """
        if any(V is None for V in self.vertices):
            raise InvalidArgumentError("these pieces have no vertices (regions found by inequalities): draw a "
                                       "lower-dimensional loop, or use bounds() and contains()")
        from .properties import _convex_polygon
        dims = _state_dims(dims, self.maps[0][0].shape[0]) if self.maps else dims
        return [_convex_polygon(V[:, list(dims)]) for V in self.vertices]

    def contains(self, y, tol: float = 1e-9) -> bool:
        """Whether the state ``y`` is in the set, up to ``tol`` (a feasibility programme per
        piece: some ``x`` of the region with ``J x + c = y``).

        The programmes are solved in float64 (scipy's HiGHS), so this is a numerical answer,
        not an exact one: ``x`` satisfies the region's inequalities to HiGHS's feasibility
        tolerance, and ``J x + c`` must be within ``tol`` of ``y``.

        Parameters
        ----------
        y : array_like, shape (n,)
            A state.
        tol : float, optional
            Relative tolerance on the image: accepted when
            ``max |J x + c - y| <= tol * (1 + max |y|)`` (default ``1e-9``).

        Returns
        -------
        bool
            True as soon as one piece contains ``y``; False when none does (or there are no
            pieces).

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> K = rn.Network.from_layers([(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.zeros(2)),
        ...                             (np.array([[1.0, -1.0]]), np.zeros(1))])
        >>> step = rn.verify.closed_loop(K, A=[[1, 0.1], [0, 1]], B=[[0.005], [0.1]])
        >>> reach = rn.verify.forward_reachable(step, rn.Box([0.9, -0.1], [1.1, 0.1]), steps=1)[0]
        >>> reach.contains(step(np.array([[1.0, 0.0]]))[0]), reach.contains([5.0, 5.0])
        (True, False)
        """
        y = np.asarray(y, dtype=np.float64)
        from scipy.optimize import linprog
        for (J, c), eq in zip(self.maps, self.facets):
            d = J.shape[1]
            res = linprog(np.zeros(d), A_ub=eq[:, :-1], b_ub=-eq[:, -1], A_eq=J, b_eq=y - c,
                          bounds=[(None, None)] * d, method="highs")
            if res.status == 0 and np.abs(J @ res.x + c - y).max() <= tol * (1 + np.abs(y).max()):
                return True
        return False


def _lp_point(eq, direction):
    """A point of ``{a x + b <= 0}`` minimising ``direction . x`` (float64): by the float kernel,
    or by HiGHS where the kernel has no optimum (a region is never empty, so that is rounding)."""
    A, b = eq[:, :-1], eq[:, -1]
    big = 1e6 * (1 + np.abs(b).max())
    res = solve_lp(A, -b, np.full(A.shape[1], -big), np.full(A.shape[1], big), direction)
    if res.status == OPTIMAL:
        return res.x
    from scipy.optimize import linprog
    ref = linprog(direction, A_ub=A, b_ub=-b, bounds=[(-big, big)] * A.shape[1], method="highs")
    if ref.status != 0:
        raise InternalError(f"no float optimum over a region's facets (HiGHS: {ref.message})")
    return ref.x


def forward_reachable(step: Network, initial, steps: int, *, time_limit: float | None = None) -> list:
    """The exact reachable sets of the loop from a bounded set of initial states.

    Parameters
    ----------
    step : Network
        From :func:`closed_loop`.
    initial : Box or Polytope
        The initial states.
    steps : int
    time_limit : float, optional
        For the enumeration; past it the regions (and so the sets) are incomplete, and an
        :class:`~regionenum.errors.IncompleteResultError` says so.

    Returns
    -------
    list of ReachSet
        One per step ``1 .. steps``.

    Raises
    ------
    ArgumentTypeError
        ``step`` is not a Network, or ``steps`` not an integer.
    InvalidArgumentError
        ``steps`` is not positive.
    InvalidDomainError
        ``initial`` is not a bounded Box or Polytope.
    IncompleteResultError
        The enumeration stopped at ``time_limit``.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> K = rn.Network.from_layers([(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.zeros(2)),
    ...                             (np.array([[1.0, -1.0]]), np.zeros(1))])
    >>> step = rn.verify.closed_loop(K, A=[[1, 0.1], [0, 1]], B=[[0.005], [0.1]])
    >>> sets = rn.verify.forward_reachable(step, rn.Box([0.9, -0.1], [1.1, 0.1]), steps=3)
    >>> [len(s) for s in sets], np.round(sets[-1].bounds()[0], 4).tolist()
    ([1, 1, 1], [0.8363, -0.3657])
    """
    from ..errors import IncompleteResultError
    checked_instance(step, Network, "step", "a regionenum.Network")
    steps = whole_number(steps, "steps")
    if not isinstance(initial, Polytope) or not initial.is_bounded:
        raise InvalidDomainError("the initial states must be a bounded Box or Polytope")
    n = step.input_dim
    net = unroll(step, steps)
    regions = enumerate_regions(net, initial, time_limit=time_limit)
    if not regions.complete:
        raise IncompleteResultError(f"the enumeration stopped ({regions.stop_reason}): the reachable sets would "
                                    "be incomplete")
    has_vertices = len(regions.vertices) > 0 or not len(regions)
    out = []
    for t in range(steps):
        rows = slice(t * n, (t + 1) * n)
        facets, maps, verts = [], [], []
        for i in range(len(regions)):
            J, c = regions.jacobians[i][rows], regions.offsets[i][rows]
            facets.append(regions.facets_of(i)[0])
            maps.append((J, c))
            verts.append(_hull_points(regions.vertices_of(i) @ J.T + c) if has_vertices else None)
        out.append(ReachSet(t + 1, facets, maps, verts))
    return out


def plot_reachable(sets, ax=None, initial=None, trajectories=None, dims=(0, 1)):
    """Draw reachable sets (a list of :class:`ReachSet`, one colour per step), the initial set
    (a Box or Polytope) and simulated ``trajectories`` (``(m, steps + 1, n)``; their states at
    the drawn steps as dots) on two state coordinates; returns the axes (matplotlib, the
    ``plot`` extra).

    Parameters
    ----------
    sets : list of ReachSet
        From :func:`forward_reachable`; coloured along viridis in list order and labelled by
        their ``step``. Pieces that project to a segment or a point are not drawn.
    ax : matplotlib.axes.Axes, optional
        Where to draw; None (default) draws on a new figure.
    initial : Box or Polytope, optional
        The initial states, drawn in grey (their vertices, projected on ``dims``); at least
        two-dimensional.
    trajectories : ndarray, shape (m, steps + 1, n), optional
        For example from :func:`simulate`: drawn as thin grey lines, with the states at each
        drawn set's step as black dots. Must be an array (its ``shape`` is read).
    dims : pair of int, optional
        The state coordinates on the horizontal and vertical axes (labelled ``x<i>``);
        default the first two.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, with a legend.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InvalidArgumentError
        A set whose pieces have no vertices (see :meth:`ReachSet.polygons`).
    ArgumentTypeError
        ``sets`` is not a list of ReachSet, or ``initial`` not a Box or Polytope.
    IndexError
        ``dims`` beyond the states' coordinates.
    """
    sets = [checked_instance(s, ReachSet, "each of sets", "a ReachSet (from forward_reachable)")
            for s in checked_instance(sets, (list, tuple), "sets", "a list of ReachSet")]
    if initial is not None:
        checked_instance(initial, Polytope, "initial", "a regionenum Box or Polytope")
    n = next((s.maps[0][0].shape[0] for s in sets if s.maps), initial.dim if initial is not None else None)
    if n is not None:
        dims = _state_dims(dims, n)
    from ..plotting import _axes, _pyplot
    ax = _axes(ax, (6.5, 5.5))
    from matplotlib.collections import PolyCollection
    cmap = _pyplot().get_cmap("viridis")
    i, j = dims
    if initial is not None:
        from .properties import _convex_polygon
        V = _box_or_polytope_vertices(initial)
        ax.add_collection(PolyCollection([_convex_polygon(V[:, [i, j]])], facecolor="0.85", edgecolor="0.3",
                                         linewidth=1.0, label="initial states"))
    if trajectories is not None:
        for traj in trajectories:
            ax.plot(traj[:, i], traj[:, j], color="0.45", linewidth=0.4, alpha=0.6, zorder=1)
    for t, reach in enumerate(sets):
        colour = cmap(t / max(len(sets) - 1, 1))
        polys = [p for p in reach.polygons(dims) if len(p) >= 3]
        ax.add_collection(PolyCollection(polys, facecolor=colour, edgecolor=colour, linewidth=0.5, alpha=0.6,
                                         label=f"step {reach.step}", zorder=2))
        if trajectories is not None and reach.step < trajectories.shape[1]:
            states = trajectories[:, reach.step]
            ax.plot(states[:, i], states[:, j], ".", color="k", markersize=2, zorder=3)
    ax.autoscale_view()
    ax.set_xlabel(f"x{i}")
    ax.set_ylabel(f"x{j}")
    if ax.get_legend_handles_labels()[0]:  # (nothing drawn: no legend, and no warning)
        ax.legend(loc="best", fontsize=8)
    return ax


def _state_dims(dims, n: int) -> tuple:
    """``dims`` as a pair of two of ``n`` state coordinates (numpy's indexing would take a
    float, a single number or a coordinate beyond the states with errors naming none)."""
    if isinstance(dims, (str, bytes)) or np.ndim(dims) != 1 or len(dims) != 2:
        raise ArgumentTypeError(f"dims must be a pair of state coordinates, got {dims!r}")
    return tuple(checked_index(i, n, f"dims[{k}]") for k, i in enumerate(dims))


def _box_or_polytope_vertices(P):
    """The vertices of a 2-D or higher Box or Polytope (its half-spaces intersected)."""
    from scipy.spatial import HalfspaceIntersection
    return HalfspaceIntersection(np.hstack([P.A, P.b[:, None]]), P.interior_point).intersections


def _hull_points(P):
    """The distinct points of ``P`` (an image's vertices are among the images of the region's)."""
    return np.unique(np.round(P, 15), axis=0)


@dataclass
class Preimage:
    """The inputs of a domain that the network maps into a polytope: the union of ``pieces``,
    H-polytopes ``[a | b]`` (``a x + b <= 0``), one per activation region meeting it."""

    pieces: list

    def __len__(self) -> int:
        return len(self.pieces)

    def contains(self, x, tol: float = 0.0) -> bool:
        """Whether the input ``x`` lies in some piece, by its inequalities in float64.

        Parameters
        ----------
        x : array_like, shape (d,)
            An input of the network (a point of the domain's space).
        tol : float, optional
            Absolute slack on every row: ``x`` is in a piece when ``a . x + b <= tol`` for all
            its rows ``[a | b]``. The rows are not normalised (the pulled-back target rows have
            the scale of ``G`` times the region's Jacobian), so ``tol`` is in their units.
            Default 0: points on a piece's boundary may be rejected by rounding.

        Returns
        -------
        bool

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> K = rn.Network.from_layers([(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.zeros(2)),
        ...                             (np.array([[1.0, -1.0]]), np.zeros(1))])
        >>> step = rn.verify.closed_loop(K, A=[[1, 0.1], [0, 1]], B=[[0.005], [0.1]])
        >>> G, g = np.vstack([np.eye(2), -np.eye(2)]), -0.5 * np.ones(4)      # |x'_i| <= 0.5
        >>> back = rn.verify.preimage(step, rn.Box([-1, -1], [1, 1]), G, g)
        >>> back.contains([0.0, 0.0]), back.contains([0.9, 0.9])
        (True, False)
        """
        x = np.asarray(x, dtype=np.float64)
        return any(np.all(eq[:, :-1] @ x + eq[:, -1] <= tol) for eq in self.pieces)


def preimage(network: Network, domain, G, g, *, time_limit: float | None = None) -> Preimage:
    """The backward reachable set: the inputs of ``domain`` with ``G y(x) + g <= 0``, exactly.

    Each activation region contributes its inequalities with the target's rows pulled back
    through its affine map; pieces proven empty (rigorous bounds from linear programmes) are
    dropped, the others kept.

    Parameters
    ----------
    network : Network
        A step network, an unrolled loop (``all_states=False`` for a target after ``k`` steps),
        or any network.
    domain : Box or Polytope
        Bounded.
    G, g : array_like
        The target polytope ``{y : G y + g <= 0}`` over the network's outputs.

    Returns
    -------
    Preimage

    Raises
    ------
    ArgumentTypeError
        ``network`` is not a Network, or ``G``, ``g`` not real numbers.
    InvalidDomainError
        ``domain`` is not a bounded Box or Polytope (the pieces' emptiness is decided by bounds
        over it).
    InvalidArgumentError
        ``G`` or ``g`` of the wrong shape, or not finite.
    IncompleteResultError
        The enumeration stopped at ``time_limit``.
    """
    from ..errors import IncompleteResultError
    checked_instance(network, Network, "network", "a regionenum.Network")
    if not isinstance(domain, Polytope) or not domain.is_bounded:
        raise InvalidDomainError("preimage needs a bounded Box or Polytope as its domain")
    G = _matrix(G, "G")
    g = np.ravel(float_array(g, "g"))
    if G.shape[1] != network.output_dim or g.shape != (G.shape[0],):
        raise InvalidArgumentError(f"G must have shape (m, {network.output_dim}) and g shape (m,), got "
                                   f"{G.shape} and {g.shape}")
    regions = enumerate_regions(network, domain, time_limit=time_limit)
    if not regions.complete:
        raise IncompleteResultError(f"the enumeration stopped ({regions.stop_reason}): the preimage would be "
                                    "incomplete")
    lo, hi = domain.bounds
    pad = 1e-6 * (1 + np.abs(lo) + np.abs(hi))
    pieces = []
    for i in range(len(regions)):
        eq = regions.facets_of(i)[0]
        J, c = regions.jacobians[i], regions.offsets[i]
        pulled = np.concatenate([G @ J, (G @ c + g)[:, None]], axis=1)
        rows = np.vstack([eq, pulled])
        # empty when a combination of the rows is positive everywhere (rows as (c, a) here)
        low, _, _ = safe_lower_bounds(np.zeros((1, rows.shape[1])), np.roll(rows, 1, axis=1),
                                      _rounding(rows, lo - pad, hi + pad), lo - pad, hi + pad)
        if np.isposinf(low[0]):
            continue
        pieces.append(rows)
    return Preimage(pieces)


def _rounding(rows, lo, hi):
    """A generous bound on the rounding of rows computed from the regions' float maps."""
    reach = np.maximum(np.abs(lo), np.abs(hi))
    return 1e-12 * (np.abs(rows[:, :-1]) @ reach + np.abs(rows[:, -1]) + 1.0)


def is_invariant(step: Network, P, *, time_limit: float | None = None):
    """Whether every step from the polytope ``P`` stays in ``P`` (``P`` a Box or Polytope).

    Each row ``a . x + b <= 0`` of ``P`` must hold for ``x' = step(x)`` on all of ``P``: one
    property of the step network, decided exactly by the property-directed search
    (:func:`~regionenum.verify.search.verify_property`).

    Parameters
    ----------
    step : Network
        ``n`` inputs and ``n`` outputs, for example from :func:`closed_loop` (ReLU, LeakyReLU
        and identity layers).
    P : Box or Polytope
        A bounded set of dimension ``n``; its rows ``A x + b <= 0`` are the property.
    time_limit : float, optional
        Seconds for the search; past it the answer is unknown (``holds`` None). Default: no
        limit.

    Returns
    -------
    SearchResult
        ``holds`` True with a proof (``rn.certify``), False with a state of ``P`` whose next state
        leaves it, None when the time ran out.

    Raises
    ------
    InvalidDomainError
        ``P`` is not a Box or Polytope, is unbounded, or its dimension is not the step
        network's; or the network does not map ``n`` states to ``n``.
    InvalidArgumentError
        A bad ``time_limit``.
    InvalidNetworkError
        The network has max layers.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> K = rn.Network.from_layers([(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.zeros(2)),
    ...                             (np.array([[1.0, -1.0]]), np.zeros(1))])
    >>> step = rn.verify.closed_loop(K, A=[[1, 0.1], [0, 1]], B=[[0.005], [0.1]])
    >>> rn.verify.is_invariant(step, rn.Box([-1, -1], [1, 1])).holds
    False
    """
    checked_instance(step, Network, "step", "a regionenum.Network")
    if not isinstance(P, Polytope):
        raise InvalidDomainError("P must be a Box or Polytope")
    if P.dim != step.input_dim or step.output_dim != step.input_dim:
        raise InvalidDomainError(f"P has dimension {P.dim}; the step network maps {step.input_dim} states to "
                                 f"{step.output_dim}")
    return verify_property(step, P, P.A, P.b, time_limit=time_limit)
