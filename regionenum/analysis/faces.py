"""The faces of the subdivision of a domain into activation regions.

Every face of every region is named by its sign vector: per unit, zero, positive or negative
on the face's relative interior, plus the domain rows it lies on (see the kernel
:func:`~regionenum.engine.kernels.lattice.face_keys`). Equal names mean equal faces, so faces
shared by several regions are found by their names' hashes, each checked against the names
themselves, with no coordinate comparisons: the result is exact whenever the enumeration's signs
are.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..core.arrays import (
    batches,
    checked_index,
    concat_offsets,
    is_integer,
    offsets_of,
    per_cell_count,
    ranges,
    run_starts,
)
from ..core.exact import ExactNetwork, exact_rank
from ..core.memory import release_free_memory
from ..core.threads import map_in_threads
from ..engine.cells import TRIM_BYTES
from ..engine.kernels.grouping import distinct_members, first_occurrence_groups
from ..engine.kernels.lattice import (
    CellFaces,
    FaceNames,
    cell_faces,
    face_hashes,
    face_key_bits,
    face_keys,
    face_volumes,
    faces_match,
    fill_face_volumes,
    large_cell_faces,
    point_and_edge_volumes,
)
from ..errors import ArgumentTypeError, IncompleteResultError, InvalidArgumentError

# scipy is imported by the functions that use it: about a third of the package's import time
__all__ = ["FaceSet", "Faces", "Instances", "compute_faces", "expected_euler_characteristic", "face_instances",
           "faces_of_cells", "group_equal", "group_faces", "renumber_by_first", "require_complete"]


@dataclass
class FaceSet:
    """The ``k``-dimensional faces of the subdivision (``n`` of them), in CSR arrays.

    Faces are numbered in the order the cells first meet them (on a bounded domain the cells
    are the regions: the faces of region 0 come first, then the new ones of region 1, ...), so
    consecutive faces lie near each other.

    Attributes
    ----------
    dim : int
        ``k``.
    vertex_offsets, vertex_ids : ndarray of int
        The vertices (indices into ``Faces.vertices``) of each face; an unbounded face lists the
        vertices it has.
    region_offsets, region_ids : ndarray of int
        The regions whose boundary contains the face.
    unit_offsets, unit_ids : ndarray of int
        The units (pattern indices) zero on the face.
    domain_offsets, domain_rows : ndarray of int
        The rows of the domain's ``A`` the face lies on (none for a face inside the domain).
    volumes : ndarray, shape (n,)
        Each face's ``k``-dimensional volume (``inf`` if unbounded).

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> edges = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).faces().by_dim[1]
    >>> len(edges), edges.regions_of(0).tolist(), edges.units_of(0).tolist(), float(edges.volumes[0])
    (12, [0], [], 1.0)
    """

    dim: int
    vertex_offsets: np.ndarray
    vertex_ids: np.ndarray
    region_offsets: np.ndarray
    region_ids: np.ndarray
    unit_offsets: np.ndarray
    unit_ids: np.ndarray
    domain_offsets: np.ndarray
    domain_rows: np.ndarray
    volumes: np.ndarray

    def __len__(self) -> int:
        return len(self.volumes)

    @property
    def on_boundary(self) -> np.ndarray:
        """Per face, whether it lies on the domain's boundary."""
        return np.diff(self.domain_offsets) > 0

    def vertices_of(self, i: int) -> np.ndarray:
        """The vertices of face ``i`` (indices into ``Faces.vertices``).

        Parameters
        ----------
        i : int
            A face of this set, ``-len(self) <= i < len(self)`` (negative counts from the end).

        Returns
        -------
        ndarray of int, shape (m,)
            A view of ``vertex_ids``, in no particular (not cyclic) order. An unbounded face
            lists only the vertices it has (possibly none), and every list is empty when the
            faces were computed with ``min_dim > 0`` (no vertices were made then).

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
        >>> faces = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).faces()
        >>> edge = faces.vertices[faces.by_dim[1].vertices_of(0)]   # the coordinates of its two ends
        >>> edge.shape
        (2, 2)
        """
        i = checked_index(i, len(self), "face")
        return self.vertex_ids[self.vertex_offsets[i]: self.vertex_offsets[i + 1]]

    def regions_of(self, i: int) -> np.ndarray:
        """The regions around face ``i``, in increasing order.

        Parameters
        ----------
        i : int
            A face of this set, ``-len(self) <= i < len(self)`` (negative counts from the end).

        Returns
        -------
        ndarray of int, shape (m,)
            Indices into the result's regions whose boundary contains the face, each once (a
            view of ``region_ids``): two for a facet inside the domain, one for a facet on its
            boundary, more for lower-dimensional faces.

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
        >>> faces = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).faces()
        >>> origin = int(np.flatnonzero((faces.vertices == 0).all(axis=1))[0])
        >>> faces.by_dim[0].regions_of(origin).tolist()   # the four quadrants meet there
        [0, 1, 2, 3]
        """
        i = checked_index(i, len(self), "face")
        return self.region_ids[self.region_offsets[i]: self.region_offsets[i + 1]]

    def units_of(self, i: int) -> np.ndarray:
        """The units (pattern indices) zero on face ``i``.

        Parameters
        ----------
        i : int
            A face of this set, ``-len(self) <= i < len(self)`` (negative counts from the end).

        Returns
        -------
        ndarray of int, shape (m,)
            Pattern bits (columns of ``Regions.patterns``; ``Network.unit_layer`` and
            ``Network.unit_index`` give their layer and unit) whose sign is zero on the face's
            relative interior, in increasing order (a view of ``unit_ids``). Empty for a face
            of the domain's boundary that no unit's hyperplane contains.

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
        >>> faces = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).faces()
        >>> origin = int(np.flatnonzero((faces.vertices == 0).all(axis=1))[0])
        >>> faces.by_dim[0].units_of(origin).tolist()   # both units are zero at the origin
        [0, 1]
        """
        i = checked_index(i, len(self), "face")
        return self.unit_ids[self.unit_offsets[i]: self.unit_offsets[i + 1]]

    def domain_rows_of(self, i: int) -> np.ndarray:
        """The rows of the domain's ``A`` that face ``i`` lies on.

        Parameters
        ----------
        i : int
            A face of this set, ``-len(self) <= i < len(self)`` (negative counts from the end).

        Returns
        -------
        ndarray of int, shape (m,)
            Rows of ``regions.domain.A`` (the domain in the result's coordinates) that are
            tight on the whole face, in increasing order (a view of ``domain_rows``); empty for
            a face inside the domain (see ``on_boundary``).

        Examples
        --------
        >>> import numpy as np, regionenum as rn
        >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
        >>> faces = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).faces()
        >>> corner = int(np.flatnonzero((faces.vertices == 1).all(axis=1))[0])
        >>> faces.by_dim[0].domain_rows_of(corner).tolist()   # the Box's rows x0 <= 1 and x1 <= 1
        [2, 3]
        """
        i = checked_index(i, len(self), "face")
        return self.domain_rows[self.domain_offsets[i]: self.domain_offsets[i + 1]]


@dataclass
class Faces:
    """All faces of the subdivision of the domain into regions (from :meth:`Regions.faces
    <regionenum.Regions.faces>`).

    Attributes
    ----------
    by_dim : list of FaceSet
        ``by_dim[k]`` holds the ``k``-faces, ``k = 0 .. d - 1`` (the regions are the ``d``-faces).
    vertices : ndarray, shape (V, d)
        The coordinates of the 0-faces.
    n_regions : int
    vertex_generators : ndarray of int, shape (V,)
        One generator of the cells (an index into ``regions.cells.gens``) at each vertex, for
        exact coordinates (:meth:`ExactGeometry.point
        <regionenum.analysis.exact_geometry.ExactGeometry.point>`).
    f_vector, euler_characteristic, edges
        See the properties.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> faces = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1])).faces()
    >>> faces.f_vector.tolist(), faces.euler_characteristic
    ([9, 12, 4], 1)
    """

    by_dim: list
    vertices: np.ndarray
    n_regions: int
    vertex_generators: np.ndarray

    @property
    def dim(self) -> int:
        """The input dimension ``d``."""
        return len(self.by_dim)

    @property
    def f_vector(self) -> np.ndarray:
        """The number of faces of each dimension, ``(f_0, ..., f_d)`` (``f_d``: regions)."""
        return np.array([len(f) for f in self.by_dim] + [self.n_regions], np.int64)

    @property
    def euler_characteristic(self) -> int:
        """``sum_k (-1)^k f_k``; equals :func:`expected_euler_characteristic` of the domain for a
        complete subdivision (1 for every bounded domain)."""
        f = self.f_vector
        return int(np.sum(f * (-1) ** np.arange(len(f))))

    @property
    def edges(self) -> np.ndarray:
        """``(E, 2)`` vertex indices of each edge; ``-1`` for the missing end of an unbounded
        edge (both ``-1`` for a line)."""
        if self.dim == 1:
            raise InvalidArgumentError("in one dimension the edges are the regions")
        e = self.by_dim[1]
        out = np.full((len(e), 2), -1, np.int64)
        counts = np.diff(e.vertex_offsets)
        for slot in range(2):
            has = counts > slot
            out[has, slot] = e.vertex_ids[e.vertex_offsets[:-1][has] + slot]
        return out


class Instances(NamedTuple):
    """Every face of dimension ``>= min_dim`` of every cell (``faces``), what names each across
    cells (``names``), whether it is a face of a region (``keep``: not on an artificial cut) and
    the region (or piece) of its cell (int32 where every region is one cell, int64 otherwise)."""

    faces: CellFaces
    names: FaceNames
    keep: np.ndarray
    region: np.ndarray


def face_instances(cells, cell_region, ids, network, min_dim: int, constraints=None) -> Instances:
    """The :class:`Instances` of ``cells`` (a ``CellSet`` whose cells belong to ``cell_region``),
    in the constraint numbering ``ids`` of ``network``'s run (``constraints``, the run's
    :class:`~regionenum.engine.cells.Constraints`, settles faces on artificial cuts exactly; see
    :func:`_off_the_regions`). Constraint ids past the units and ties (cuts finer than the
    regions') are not part of names."""
    faces = _in_threads(lambda lo, hi: _face_parts(cells, min_dim, lo, hi), len(cells),
                        offsets_at=_FACE_OFFSETS)
    if faces.gen_off.nbytes >= TRIM_BYTES:  # the kernels' parts, freed in the C heap's midst
        release_free_memory()
    bad = _off_the_regions(faces, cells, ids, network, constraints)
    units = np.arange(network.n_units)
    id_units = np.concatenate([np.stack([units, units], axis=1), network.tie_units])
    names = FaceNames(faces.cell, faces.tight_off, faces.tight, _words(cells.packed), _words(cells.zero),
                      ids.unit_start, id_units, ids.n_domain)
    one_each = len(cell_region) == len(cells) and np.array_equal(cell_region, np.arange(len(cells)))
    # a region per cell (a bounded domain): the faces' own cell ids, not an int64 copy of them
    return Instances(faces, names, ~bad, faces.cell if one_each else cell_region[faces.cell])


def faces_of_cells(cells, min_dim: int, lo: int, hi: int) -> CellFaces:
    """The :data:`CellFaces` of dimensions ``min_dim`` and up of cells ``lo`` to ``hi - 1`` (a
    ``CellSet``), in the order of the cells: :func:`cell_faces`, with the cells of more than 64
    generators it leaves out from :func:`large_cell_faces`."""
    return _joined(_face_parts(cells, min_dim, lo, hi), _FACE_OFFSETS)


#: The fields of :data:`CellFaces` that are CSR offsets (``gen_off`` and ``tight_off``).
_FACE_OFFSETS = (2, 4)


def _face_parts(cells, min_dim: int, lo: int, hi: int) -> list:
    """:func:`faces_of_cells` as consecutive parts, in the order of the cells: runs of cells of
    at most 64 generators from :func:`cell_faces`, each run of larger ones from
    :func:`large_cell_faces`. The parts of all cells are joined once (:func:`_in_threads`):
    merging them run by run as well wrote every face twice (2.2 s of CPU in r4_small's faces,
    mostly fresh pages)."""
    arrays = cells.arrays
    large = lo + np.flatnonzero(np.diff(cells.gen_off[lo: hi + 1]) > 64)
    parts, at = [], lo
    for run in np.split(large, np.flatnonzero(np.diff(large) > 1) + 1) if len(large) else []:
        if run[0] > at:
            parts.append(cell_faces(arrays, min_dim, at, run[0]))
        parts.append(large_cell_faces(arrays, min_dim, run))
        at = run[-1] + 1
    if at < hi or not parts:
        parts.append(cell_faces(arrays, min_dim, at, hi))
    return parts


#: Cells, or faces, in one piece of work of the lattice kernels, which threads on idle cores
#: share (:func:`~regionenum.core.threads.map_in_threads`; each cell's or face's answer is its
#: own, so the results do not depend on the threads).
_CHUNK = 8192


def _in_threads(kernel, n: int, offsets_at: tuple = ()):
    """``kernel(lo, hi)`` of consecutive runs of ``n`` cells or faces (one, perhaps empty, at
    least), shared out among threads and joined in order (:func:`_joined`); a kernel may return
    a list of such parts, in order."""
    parts = map_in_threads(lambda bounds: kernel(*bounds), batches(n, _CHUNK) or [(0, 0)])
    if isinstance(parts[0], list):
        parts = [part for run in parts for part in run]
    return _joined(parts, offsets_at)


def _joined(parts: list, offsets_at: tuple = ()):
    """The ``parts`` joined in order: arrays one after another, tuples of arrays field by field
    (the fields at ``offsets_at`` being CSR offsets). They are taken out of the list, which is
    left empty, and each field of theirs is let go once joined, so that one field, not all, is
    held twice (r4_small's 25 million faces of cells are 1.2 GB; the kernels' arrays, grown by
    doubling, up to twice that)."""
    if len(parts) == 1:
        return parts.pop()
    if isinstance(parts[0], np.ndarray):
        out = np.concatenate(parts)
        parts.clear()
        return out
    kind = type(parts[0])
    columns = [list(field) for field in zip(*parts)]
    parts.clear()
    fields = []
    for i in range(len(columns)):
        fields.append(concat_offsets(columns[i]) if i in offsets_at else np.concatenate(columns[i]))
        columns[i] = None
    return kind(*fields) if hasattr(kind, "_fields") else tuple(fields)


def _off_the_regions(faces, cells, ids, network, constraints) -> np.ndarray:
    """Per face, whether it is not a face of the regions: it lies on an artificial cut (a piece
    of an unbounded domain) and the regions' own constraints tight on it (domain rows, units,
    ties) do not pin down its affine hull, i.e. their exact rows have rank below ``d - dim``. A
    unit's hyperplane can lie exactly on a cut (``ReLU(x0)`` on the whole plane, cut along
    ``x0 = 0``): its faces there are the regions' faces. Without ``constraints`` every face on
    a cut is taken as off the regions."""
    artificial = ids.is_artificial(faces.tight)
    bad = np.zeros(len(faces.cell), bool)
    if not artificial.any():
        return bad
    owner = np.repeat(np.arange(len(faces.cell)), np.diff(faces.tight_off))
    bad[owner[artificial]] = True
    if constraints is None:
        return bad
    d = cells.gens.shape[1] - 1
    oracle = constraints.oracle(ExactNetwork(network), [], cells.packed)
    for f in np.flatnonzero(bad):
        tight = faces.tight[faces.tight_off[f]: faces.tight_off[f + 1]]
        real = [int(cid) for cid in tight if cid < ids.infinity or ids.unit_start <= cid < ids.end]
        need = d - int(faces.dim[f])
        if len(real) >= need:
            rows = [oracle.row(int(faces.cell[f]), cid) for cid in real]
            bad[f] = exact_rank(rows, d + 1) < need
    return bad


def _words(packed):
    """Packed bit rows as little-endian 64-bit words (zero padded)."""
    n, m = packed.shape
    out = np.zeros((n, 8 * ((m + 7) // 8)), np.uint8)
    out[:, :m] = packed
    return out.view("<u8")


def compute_faces(regions, min_dim: int = 0) -> Faces:
    """The faces of dimensions ``min_dim .. d - 1`` of the subdivision (lower ones left empty);
    see :meth:`Regions.faces <regionenum.Regions.faces>`.

    Faces shared by several regions are matched by their exact sign-vector names, not by
    coordinates, so each face appears once.

    Parameters
    ----------
    regions : Regions
        A complete result with a cell complex: not one enumerated by its inequalities (see
        the Notes of :func:`~regionenum.enumerate_regions`: more than five inputs).
    min_dim : int, optional
        The lowest face dimension computed (default 0: all of them). ``by_dim[k]`` is an empty
        :class:`FaceSet` for ``k < min_dim``, which is faster when only facets are needed
        (``min_dim = d - 1``, as the adjacency graph and linear regions use). With
        ``min_dim > 0`` no vertices are made: ``Faces.vertices`` is empty, every face's vertex
        list is empty and ``f_vector`` counts no vertices. At most ``d`` (then no face is made).

    Returns
    -------
    Faces
        ``by_dim[k]`` for ``k = 0 .. d - 1`` and the vertices' coordinates; ``n_regions`` is
        ``len(regions)``.

    Raises
    ------
    IncompleteResultError
        The enumeration stopped early.
    InvalidArgumentError
        The result has no cell complex (it was enumerated by its inequalities), or ``min_dim``
        is outside ``0 .. d``.
    ArgumentTypeError
        ``min_dim`` is not an integer.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> from regionenum.analysis import compute_faces
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), [0.0])])
    >>> regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    >>> compute_faces(regions).f_vector.tolist(), compute_faces(regions, min_dim=1).f_vector.tolist()
    ([9, 12, 4], [0, 12, 4])
    """
    require_complete(regions, "the faces")
    d = regions.dim
    if not is_integer(min_dim):
        raise ArgumentTypeError(f"min_dim must be an integer, got {type(min_dim).__name__}")
    if not 0 <= min_dim <= d:
        raise InvalidArgumentError(f"min_dim must be in [0, {d}] (the faces' dimensions), got {min_dim}")
    cells = regions.cells
    ids = regions.constraint_ids
    inst = face_instances(cells, regions.cell_region, ids, regions.network, min_dim, regions.complex.constraints)
    vertex_of_gen = np.full(len(cells.gens), -1, np.int64)
    vertices = np.zeros((0, d))
    generators = np.zeros(0, np.int64)
    by_dim = [_empty_faceset(k) for k in range(min(min_dim, d))]
    for k in range(min_dim, d):
        faceset, vertex_generators = _faces_of_dim(k, inst, cells, vertex_of_gen)
        by_dim.append(faceset)
        if k == 0:
            generators = vertex_generators
            vertices = cells.gens[generators, 1:]
    return Faces(by_dim, vertices, len(regions), generators)


def _faces_of_dim(k: int, inst: Instances, cells, vertex_of_gen) -> tuple:
    """The :class:`FaceSet` of the faces of dimension ``k`` among the face instances ``inst`` of
    ``cells``; for ``k = 0`` also each vertex's generator (the first instance's), having entered
    the vertices' ids in ``vertex_of_gen`` (higher dimensions list their vertices by it). A
    function of its own so that one dimension's arrays, each as long as its instances, are let
    go before the next dimension's are made (r4_small's edges: 10 million instances)."""
    faces = inst.faces
    sel = np.flatnonzero((faces.dim == k) & inst.keep)
    face_of, first = group_faces(sel, inst.names)
    n = len(first)
    rep = sel[first]
    region = inst.region[sel]
    # the regions around each face, each once, in increasing order
    region_offsets, region_ids = distinct_members(face_of, region, n)
    # volume: the instances from one region (its pieces, on unbounded domains, are disjoint)
    own = region == region[first][face_of]
    which = sel[own]
    if k <= 1:  # (a kernel that does not carry the triangulation's code, nor loads it)
        vols = _in_threads(lambda lo, hi: point_and_edge_volumes(faces, cells.gens, which[lo:hi]), len(which))
    else:
        vols = _in_threads(lambda lo, hi: face_volumes(faces, cells.arrays, which[lo:hi]), len(which))
        fill_face_volumes(faces, cells.arrays, which, vols)
    volumes = np.bincount(face_of[own], weights=vols, minlength=n)
    gsel, gen_offsets = ranges(faces.gen_off, rep)
    vertex_generators = None
    if k == 0:
        vertex_of_gen[faces.members[faces.gen_off[sel]]] = face_of
        vertex_generators = faces.members[faces.gen_off[rep]].astype(np.int64)
    vertex_ids = vertex_of_gen[faces.members[gsel]]
    real = vertex_ids >= 0
    faceset = FaceSet(k, offsets_of(per_cell_count(real, gen_offsets)), vertex_ids[real], region_offsets,
                      region_ids,
                      *_in_threads(lambda lo, hi: face_key_bits(rep[lo:hi], inst.names), n,
                                   offsets_at=(0, 2)), volumes)  # the units and rows offsets
    return faceset, vertex_generators


def _empty_faceset(k):
    z = np.zeros(1, np.int64)
    e = np.zeros(0, np.int64)
    return FaceSet(k, z, e, z, e, z, e, z, e, np.zeros(0))


def group_faces(faces, names: FaceNames):
    """Group the cell faces ``faces`` by name: the group of each and the first of each group.
    Names are compared by a 64-bit hash, checked against the names themselves (a collision
    falls back to sorting whole names)."""
    group, first = group_equal(_in_threads(lambda lo, hi: face_hashes(faces[lo:hi], names), len(faces)))
    ref = faces[first[group]]
    if not all(map_in_threads(lambda b: faces_match(faces[b[0]:b[1]], ref[b[0]:b[1]], names),
                              batches(len(faces), _CHUNK))):
        keys = face_keys(faces, names)
        group, first = group_equal(keys.view(f"V{8 * keys.shape[1]}").ravel())
    return group, first


def group_equal(values):
    """Group equal ``values``: the group of each and the first occurrence of each group, groups
    numbered in the order of their first occurrences (increasing ``first``).

    Integers (the faces' 64-bit hashes, labels) are looked up in a hash table in one pass
    (:func:`~regionenum.engine.kernels.grouping.first_occurrence_groups`): sorting them took 1.3
    to 8 times as long on the faces of r3_small and r4_small. Other values (whole names, as
    bytes) are sorted; the sort need not be stable, the first occurrence being the least
    position in each run of equal values. Numbering the groups by first occurrence, not by
    value, keeps faces in the order of the cells they are first met in: the regions around
    consecutive faces are then near each other in memory, which halved the time to build the
    adjacency graph's dicts on r2_big (a hash's order scatters them)."""
    values = np.asarray(values)
    if values.dtype.kind in "iu" and values.ndim == 1:
        words = values.astype(np.int64, copy=False) if values.dtype.itemsize < 8 else values
        return first_occurrence_groups(np.ascontiguousarray(words).view(np.uint64))
    order = np.argsort(values)
    new = run_starts(values[order])
    ids = np.cumsum(new) - 1
    group = np.empty(len(values), np.int64)
    group[order] = ids
    starts = np.flatnonzero(new)
    if not len(starts):
        return group, order[:0]
    first = np.minimum.reduceat(order, starts)
    # renumbered by first occurrence: a group's new number is how many first occurrences
    # come before its own
    is_first = np.zeros(len(values), bool)
    is_first[first] = True
    renumbered = np.cumsum(is_first) - 1
    np.take(renumbered[first], group, out=group)
    return group, np.flatnonzero(is_first)


def renumber_by_first(labels):
    """Renumber labels ``0, 1, ...`` in the order of their first occurrence."""
    if not len(labels):
        return labels
    return group_equal(np.asarray(labels))[0]


def require_complete(regions, what: str) -> None:
    """Raise :class:`~regionenum.IncompleteResultError` unless ``regions`` is complete: ``what``
    (an analysis) needs every region."""
    if not regions.complete:
        raise IncompleteResultError(f"{what} cannot come from an incomplete enumeration (it stopped "
                                    f"early: {regions.stop_reason}); run it without that budget, or "
                                    "with a larger one")


def expected_euler_characteristic(domain) -> int:
    """``sum_k (-1)^k f_k`` of any polyhedral subdivision of the domain: 1 if bounded,
    ``(-1)^l`` if it is a bounded set plus an ``l``-dimensional space of lines, else 0."""
    from scipy.optimize import linprog
    A = domain.A
    if domain.is_bounded:
        return 1
    lineality = domain.dim - (np.linalg.matrix_rank(A) if len(A) else 0)
    if len(A) == 0:
        return (-1) ** domain.dim
    # directions y with A y <= 0 and some (A y)_i < 0 make the line-free part unbounded
    res = linprog(np.sum(A, axis=0), A_ub=A, b_ub=np.zeros(len(A)), bounds=[(-1, 1)] * domain.dim,
                  method="highs")
    return 0 if res.fun < -1e-9 else (-1) ** lineality
