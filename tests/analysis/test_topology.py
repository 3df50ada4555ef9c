"""Polyhedral complexes from the face lattice and their homology: GF(2) ranks against plain
elimination, complexes against the face lattice they come from, Betti numbers of small
constructions."""
import numpy as np
import pytest

import regionenum as rn
from regionenum.analysis.topology import betti_numbers, cell_volumes, gf2_rank, subdivision_complex
from tests.oracles import random_net


def _rank_mod2(M):
    """Rank over GF(2) by Gaussian elimination on a 0/1 array (row operations, dense)."""
    M = M.copy() % 2
    rank = 0
    for col in range(M.shape[1]):
        pivot = next((r for r in range(rank, M.shape[0]) if M[r, col]), None)
        if pivot is None:
            continue
        M[[rank, pivot]] = M[[pivot, rank]]
        for r in range(M.shape[0]):
            if r != rank and M[r, col]:
                M[r] ^= M[rank]
        rank += 1
    return rank


@pytest.mark.parametrize("seed", range(20))
def test_gf2_rank_against_elimination(seed):
    rng = np.random.default_rng(seed)
    M = (rng.random((rng.integers(1, 12), rng.integers(1, 12))) < rng.uniform(0.1, 0.6)).astype(np.int64)
    if seed % 3 == 0 and M.shape[1] > 2:
        M[:, -1] = (M[:, 0] + M[:, 1]) % 2  # a dependent column
    rank, pivots = gf2_rank([np.flatnonzero(M[:, j]) for j in range(M.shape[1])])
    assert rank == _rank_mod2(M) == len(pivots)


def test_subdivision_complex_is_the_face_lattice():
    net = random_net([3, 8, 8, 1], 0)
    regions = rn.enumerate_regions(net, rn.Box(-np.ones(3), np.ones(3)))
    faces = regions.faces()
    K = subdivision_complex(regions, faces)
    assert K.f_vector.tolist() == faces.f_vector.tolist()
    assert K.euler_characteristic == 1 and betti_numbers(K) == (1, 0, 0, 0)  # a subdivided cube
    # facets have one dimension less and their vertices among the cell's
    for k in range(1, 4):
        inc, fac = K.incidence[k], K.facets[k]
        for cell in range(0, inc.shape[0], max(1, inc.shape[0] // 50)):
            verts = set(inc.indices[inc.indptr[cell]: inc.indptr[cell + 1]].tolist())
            for g in fac.indices[fac.indptr[cell]: fac.indptr[cell + 1]]:
                sub = K.incidence[k - 1]
                assert set(sub.indices[sub.indptr[g]: sub.indptr[g + 1]].tolist()) <= verts
        assert np.all(np.diff(fac.indptr) >= k + 1)  # a k-polytope has at least k + 1 facets
    # the volumes by the pyramid formula are the engine's
    np.testing.assert_allclose(cell_volumes(K, 3), regions.volumes, rtol=1e-9)
    np.testing.assert_allclose(cell_volumes(K, 2), faces.by_dim[2].volumes, rtol=1e-9)
    np.testing.assert_allclose(cell_volumes(K, 1), faces.by_dim[1].volumes, rtol=1e-9)
    # every boundary of a boundary vanishes mod 2
    for k in range(2, 4):
        two = (K.facets[k].astype(np.int64) @ K.facets[k - 1].astype(np.int64)).toarray() % 2
        assert not two.any()
