"""The cells' exact volumes summed through their signed facets, for :func:`~regionenum.verify.certify`.

The volume of a convex polytope ``c`` is, for any point ``O``, the sum over its facets ``F`` of
the signed volume of the cone from ``O`` over ``F``: ``vol(c) = sum_F s_F cone_O(F)``, with
``cone_O(F) = sum_S det(O, S) / (d! prod t)`` over the simplices ``S`` of a triangulation of ``F``
in a fixed orientation, and ``s_F`` the sign that orientation has seen from inside ``c`` (the
sign of ``det(a, S)`` for any vertex ``a`` of ``c`` off ``F``). Points are homogeneous integer
vectors ``(t, x)``, ``t > 0``; ``det`` is that of the ``d + 1`` vectors, ``t`` the
product of their ``t``. The function ``y -> sum_F s_F cone_y(F)`` is affine in ``y`` and equals
``vol(c)`` at every point inside ``c`` (the cones from an interior point fill the cell, each
with its sign positive), so it is that constant everywhere.

Summed over every cell, a facet shared by two cells comes with opposite signs, the cells lying
on either side of it, and its two cones cancel exactly: what is left is the cones of the facets
no other cell has (the domain's boundary, for a right result). So the cells' exact volumes are
summed without a fraction per cell: :class:`FacetLedger` keeps each facet's signed count by
its exact vertices, drops those that reach zero, and sums the cones of the rest in fractions
at the end. This is exact arithmetic whatever the cells: a facet two cells do not share exactly
(the same exact vertices) is simply not cancelled, and its cones are summed. (Before,
each cell's volume was one fraction over the cube of its vertices' least common ``t``, and the
90,020 fractions of a 3-D result summed: four fifths of its certificate, see
``benchmarks/README.md``.)

Each cell's own volume, to compare with the result's float one, needs no exact value: the
simplices from one vertex ``a`` to the facets that miss it are each ``|det| / (d! prod t)``, a
quotient of integers that Python rounds correctly to float64, and their sum is within a few
units in the last place of it (:func:`cell_facets`).
"""
from __future__ import annotations

import math
from fractions import Fraction

from ..core.tolerances import ETA, gamma
from ..errors import CertificationError

__all__ = ["FacetLedger", "canonical", "cell_facets", "det", "polygon_ring"]


class FacetLedger:
    """Signed facets met so far that no other has cancelled (see the module's description).

    Parameters
    ----------
    origin : list of int
        The cones' apex ``O``, a homogeneous integer vector ``(t, x)`` with ``t > 0``.
    """

    def __init__(self, origin):
        self.origin = tuple(int(v) for v in origin)
        self.numbers = {}  # exact vertex -> its number here
        self.points = []   # number -> exact vertex (a tuple of ints)
        self.signs = {}    # facet (vertex numbers, in canonical order) -> its signed count

    def number(self, point) -> int:
        """The number of the exact vertex ``point`` (a sequence of ints), new if unseen."""
        key = tuple(point)
        n = self.numbers.get(key)
        if n is None:
            n = self.numbers[key] = len(self.points)
            self.points.append(key)
        return n

    def add(self, facet: tuple, sign: int) -> None:
        """Count the facet ``facet`` (vertex numbers, :func:`canonical` order) with ``sign``."""
        total = self.signs.pop(facet, 0) + sign
        if total:
            self.signs[facet] = total

    def merge(self, other: FacetLedger) -> None:
        """Add every open facet of ``other`` (its vertices numbered here)."""
        renumber = [self.number(p) for p in other.points]
        for facet, sign in other.signs.items():
            self.add(tuple(renumber[v] for v in facet), sign)

    def compact(self) -> FacetLedger:
        """The same open facets with only the vertices they use: what a worker sends back."""
        out = FacetLedger(self.origin)
        for facet, sign in self.signs.items():
            out.signs[tuple(out.number(self.points[v]) for v in facet)] = sign
        return out

    def volume(self) -> Fraction:
        """The exact sum of the open facets' signed cones from the origin: the sum of the exact
        volumes of every cell added."""
        total = Fraction(0)
        o = self.origin
        d = len(o) - 1
        scale = math.factorial(d) * o[0]
        for facet, sign in self.signs.items():
            for S in _simplices(facet):
                vectors = [self.points[v] for v in S]
                total += Fraction(sign * det([o, *vectors]), scale * math.prod(v[0] for v in vectors))
        return total


def det(rows) -> int:
    """The determinant of ``d + 1`` integer rows of length ``d + 1`` (``d`` = 1, 2 or 3):
    explicit products, by the 2 x 2 minors of the first two and the last two rows in 4 x 4."""
    if len(rows) == 2:
        (a0, a1), (b0, b1) = rows
        return a0 * b1 - a1 * b0
    if len(rows) == 3:
        (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = rows
        return a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0)
    a, b, c, e = rows
    s0, s1, s2 = a[0] * b[1] - a[1] * b[0], a[0] * b[2] - a[2] * b[0], a[0] * b[3] - a[3] * b[0]
    s3, s4, s5 = a[1] * b[2] - a[2] * b[1], a[1] * b[3] - a[3] * b[1], a[2] * b[3] - a[3] * b[2]
    c5, c4, c3 = c[2] * e[3] - c[3] * e[2], c[1] * e[3] - c[3] * e[1], c[1] * e[2] - c[2] * e[1]
    c2, c1, c0 = c[0] * e[3] - c[3] * e[0], c[0] * e[2] - c[2] * e[0], c[0] * e[1] - c[1] * e[0]
    return s0 * c5 - s1 * c4 + s2 * c3 + s3 * c2 - s4 * c1 + s5 * c0


def _simplices(facet: tuple) -> list:
    """The ``(d - 1)``-simplices of a facet's triangulation, in its orientation: a point or an
    edge itself, a polygon (its vertices in cyclic order) fanned from its first vertex."""
    if len(facet) <= 2:
        return [facet]
    return [(facet[0], facet[i], facet[i + 1]) for i in range(1, len(facet) - 1)]


def canonical(facet: list, points: list) -> tuple:
    """The facet's vertex numbers ``facet`` (a point, an edge, or a polygon in cyclic order) in
    an order of their exact values alone (``points``, by number), so that a facet met in two
    cells gets one order, and with it one orientation: an edge from its lesser end, a polygon
    from its least vertex towards the lesser of that one's two neighbours."""
    if len(facet) == 1:
        return tuple(facet)
    if len(facet) == 2:
        a, b = facet
        return (a, b) if points[a] < points[b] else (b, a)
    k = len(facet)
    i = min(range(k), key=lambda j: points[facet[j]])
    ring = facet[i:] + facet[:i]
    return tuple(ring) if points[ring[1]] < points[ring[-1]] else (ring[0], *ring[:0:-1])


def polygon_ring(face, neighbours: dict) -> list:
    """The vertices of the polygon ``face`` (its generator ids) in cyclic order, from its cell's
    edges: ``neighbours`` maps each generator id to those it shares an edge with (those within
    ``face`` are the polygon's neighbours: an edge of a convex polytope with both ends on a face
    lies in it)."""
    inside = set(face)
    start = min(inside)
    ring, prev, closed = [start], None, False
    while len(ring) <= len(inside):
        nxt = [v for v in neighbours.get(ring[-1], ()) if v in inside and v != prev]
        if len(nxt) != (2 if prev is None else 1):  # each vertex of a polygon on two of its edges
            break
        if prev is not None and nxt[0] == start:
            closed = True
            break
        prev = ring[-1]
        ring.append(nxt[0])
    if not closed or len(ring) != len(inside):
        raise CertificationError(f"a face's edges do not form one polygon through its {len(inside)} vertices")
    return ring


def cell_facets(vertices: dict, facets: list, ledger: FacetLedger) -> tuple:
    """One bounded cell: its signed facets counted in ``ledger``, and its volume in float64
    with a bound on that value's error.

    Parameters
    ----------
    vertices : dict
        The cell's generator ids to their exact vectors ``(t, x)``, all points (``t > 0``),
        in the cell's order; the first is the apex ``a`` of the volume's simplices.
    facets : list of list
        Each facet's generator ids: one (``d = 1``), an edge's two, or a polygon's in cyclic
        order (:func:`polygon_ring`).
    ledger : FacetLedger

    Returns
    -------
    (float, float)
        The volume ``v`` (the simplices from ``a`` over the facets that miss it, each
        ``|det| / (d! prod t)`` rounded correctly, summed) and a bound on ``|v - exact|``;
        ``inf`` (and a bound of ``terms ETA``) where the volume is beyond float64's range.

    Raises
    ------
    CertificationError
        Fewer than ``d + 1`` facets, a facet of the wrong size (``d`` vertices, a polygon
        three or more), one holding every vertex or flat against the cell's other vertices, or
        facets that do not close up (every ridge on two of them, crossed in opposite
        directions: a cell's face lattice read from wrong incidences).
    """
    ids = list(vertices)
    d = len(vertices[ids[0]]) - 1
    if len(facets) < d + 1:
        raise CertificationError(f"its cell has {len(facets)} facets, where a polytope has {d + 1} at least")
    wrong = next((face for face in facets if len(face) < d or (d < 3 and len(face) != d)), None)
    if wrong is not None:
        raise CertificationError(f"a facet of its cell has {len(wrong)} vertices, in {d} dimensions")
    numbers = {g: ledger.number(v) for g, v in vertices.items()}
    points = ledger.points
    apex = ids[0]
    a = vertices[apex]
    scale = math.factorial(d) * a[0]
    near, terms = 0.0, 0
    ridges = {}  # each ridge of the facets (in their orientations): how often met, and its signs' sum
    for face in facets:
        order = canonical([numbers[g] for g in face], points)
        simplices = _simplices(order)
        sign = 0  # the orientation's, seen from inside: from the first simplex not flat
        if apex in face:  # seen from another vertex of the cell, off the facet
            off = next((g for g in ids if g not in face), None)
            if off is None:
                raise CertificationError("a facet of its cell holds every vertex of the cell")
            off = vertices[off]
            for S in simplices:
                sign = sign or _sign(det([off, *(points[v] for v in S)]))
        else:
            for S in simplices:
                vectors = [points[v] for v in S]
                D = det([a, *vectors])
                sign = sign or _sign(D)
                try:  # (Python's quotient of integers is correctly rounded)
                    near += abs(D) / (scale * math.prod(v[0] for v in vectors))
                except OverflowError:  # a term beyond float64's range: so is the volume
                    near = math.inf
                terms += 1
        if sign == 0:
            raise CertificationError("a facet of its cell has the cell's vertices on its plane (the cell is flat, "
                                     "or its facets are wrong)")
        ledger.add(order, sign)
        for ridge, side in _ridges(order, sign):
            seen = ridges.setdefault(ridge, [0, 0])
            seen[0] += 1
            seen[1] += side
    if any(count != 2 or total for count, total in ridges.values()):
        raise CertificationError("its cell's facets do not close up (a ridge not on exactly two of them, "
                                 "crossed in opposite directions)")
    # each quotient within half an ulp (relative, or ETA below the normal range), the sum of
    # non-negative terms within gamma(terms - 1) of theirs; an infinite sum: beyond float64
    return near, (2.0 * gamma(terms + 2) * near if near < math.inf else 0.0) + terms * ETA


def _ridges(facet: tuple, sign: int) -> list:
    """The oriented boundary of the facet (vertex numbers, :func:`canonical` order) in its
    orientation times ``sign``: ``(ridge, +1 or -1)`` pairs. A point's is the empty ridge, with
    its sign; an edge's its two ends; a polygon's its edges (lesser vertex first), ``-1`` where
    it runs the other way. The facets of a cell, oriented as seen from inside it, close up:
    every ridge comes twice, with opposite signs."""
    if len(facet) == 1:
        return [((), sign)]
    if len(facet) == 2:
        return [((facet[1],), sign), ((facet[0],), -sign)]
    k = len(facet)
    out = []
    for i in range(k):
        p, q = facet[i], facet[(i + 1) % k]
        out.append(((p, q), sign) if p < q else ((q, p), -sign))
    return out


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)
