"""Results survive a round trip through every file format."""
from pathlib import Path

import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

DIGITS = Path(rn.__file__).parent / "data" / "digits_plane.npz"

RESULT_ARRAYS = ["packed_patterns", "interior_points", "bounded", "volumes", "vertex_offsets",
                 "vertices", "facet_offsets", "facet_equations", "facet_layers", "facet_units",
                 "jacobians", "offsets", "cell_region"]


def _same_graph(G, H):
    assert sorted(G.nodes) == sorted(H.nodes)
    assert {frozenset(e) for e in G.edges} == {frozenset(e) for e in H.edges}
    for items_g, items_h in ((G.nodes(data=True), H.nodes), (G.edges(data=True), H.edges)):
        for *key, data in items_g:
            other = items_h[key[0]] if len(key) == 1 else items_h[tuple(key)]
            assert data.keys() == other.keys()
            for k, v in data.items():
                if isinstance(v, np.ndarray):
                    assert isinstance(other[k], np.ndarray) and other[k].dtype == v.dtype
                    assert np.array_equal(v, other[k])
                else:
                    assert v == other[k], k

CASES = [
    ("digits", lambda: rn.load(DIGITS)),
    ("halfplane", lambda: (random_net([2, 8, 8, 3], 1), rn.Polytope(np.array([[0.0, -1.0]]), np.array([0.2])))),
    ("cube", lambda: (random_net([3, 6, 6, 1], 2), rn.Box(-np.ones(3), np.ones(3)))),
]


@pytest.mark.parametrize("suffix", [".npz", ".json"])
@pytest.mark.parametrize("name,make", CASES, ids=[c[0] for c in CASES])
def test_regions_round_trip(tmp_path, suffix, name, make):
    net, domain = make()
    regions = rn.enumerate_regions(net, domain)
    path = tmp_path / f"{name}{suffix}"
    regions.save(path)
    back = rn.load_regions(path)
    for attr in RESULT_ARRAYS:
        a, b = getattr(regions, attr), getattr(back, attr)
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), attr
    assert (back.complete, back.stop_reason, back.exact_calls) == (regions.complete, None, regions.exact_calls)
    assert back.sign_stages == regions.sign_stages and regions.sign_stages["float64 filter"] > 0
    assert type(back.domain) is type(domain)
    np.testing.assert_array_equal(back.domain.A, domain.A)
    for a, b in zip(net.layers, back.network.layers):  # the weights themselves, bit for bit
        assert np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b) and a.activation == b.activation
    X = np.random.default_rng(0).uniform(-1, 1, (50, net.input_dim))
    np.testing.assert_allclose(back.network(X), net(X), rtol=1e-12, atol=1e-12)  # BLAS may block differently
    # the loaded result answers every analysis as the original
    _same_graph(regions.adjacency_graph(), back.adjacency_graph())
    assert np.array_equal(regions.faces().f_vector, back.faces().f_vector)
    assert np.array_equal(regions.linear_regions().region_group, back.linear_regions().region_group)
    if net.output_dim > 1:
        assert np.array_equal(regions.decision_regions().classes, back.decision_regions().classes)


def test_bad_files(tmp_path):
    regions = rn.enumerate_regions(random_net([2, 4, 1], 4), rn.Box([-1, -1], [1, 1]))
    with pytest.raises(rn.RegionEnumError, match="use .npz or .json"):
        regions.save(tmp_path / "r.txt")
    with pytest.raises(rn.RegionEnumError, match="no such file"):
        rn.load_regions(tmp_path / "missing.npz")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(rn.RegionEnumError, match="not a readable regionenum result"):
        rn.load_regions(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(rn.RegionEnumError, match="not a regionenum result"):
        rn.load_regions(tmp_path / "other.json")
    rn.save(tmp_path / "net.npz", regions.network)
    with pytest.raises(rn.RegionEnumError, match="format version"):
        rn.load_regions(tmp_path / "net.npz")
    with pytest.raises(rn.RegionEnumError, match="graphml or .json"):
        rn.write_graph(regions.adjacency_graph(), tmp_path / "g.gexf")


@pytest.mark.parametrize("edit,message", [
    (lambda a: a.update(volumes=-a["volumes"]), "volumes holds negative volumes"),
    (lambda a: a.update(vertex_offsets=a["vertex_offsets"][::-1].copy()), "vertex_offsets must be non-decreasing"),
    (lambda a: a.update(vertices=a["vertices"][:-3]), "vertex_offsets ends at .* but vertices has"),
    (lambda a: a.update(vertices=np.where(a["vertices"] > 0, np.nan, a["vertices"])),
     "vertices holds coordinates that are not finite"),
    (lambda a: a.update(jacobians=a["jacobians"][:-1]), "jacobians has .* rows for .* regions"),
    (lambda a: a.update(packed_patterns=a["packed_patterns"][:-1]), "rows for .* regions"),
    (lambda a: a.update(extra=np.zeros(3)), r"unknown arrays \['extra'\]"),
    (lambda a: a.pop("cells_gens"), r"missing arrays \['cells_gens'\]"),
    (lambda a: a.update(complete=np.array("yes")), "complete must be one bool"),
    (lambda a: a.update(cells_con_off=a["cells_con_off"] + 1), "cells_con_off must be non-decreasing integers"),
])
def test_files_whose_arrays_do_not_fit_together_are_refused(tmp_path, edit, message):
    """A result file edited by hand or written by another tool: with negated volumes, rn.certify
    passed it (its exact volume is its own) while its volumes summed to -4; with shortened
    arrays the analyses failed deep inside, or asked for the network to be reported."""
    regions = rn.enumerate_regions(random_net([2, 6, 1], 4), rn.Box([-1, -1], [1, 1]))
    regions.save(tmp_path / "r.npz")
    with np.load(tmp_path / "r.npz") as data:
        arrays = {k: data[k] for k in data.files}
    edit(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(rn.FileFormatError, match=message):
        rn.load_regions(tmp_path / "bad.npz")
    assert len(rn.load_regions(tmp_path / "r.npz")) == len(regions)


def test_files_with_int64_incidences(tmp_path):
    """Files written before the incidences were int32 hold them as int64: they load as the
    kernels' type and answer as before; ids beyond int32 are a clear error, not wrapped."""
    from regionenum.engine.kernels.splitting import INCIDENCE_DTYPE
    regions = rn.enumerate_regions(random_net([3, 6, 6, 1], 2), rn.Box(-np.ones(3), np.ones(3)))
    assert regions.complex.cells.inc.dtype == INCIDENCE_DTYPE
    regions.save(tmp_path / "r.npz")
    arrays = dict(np.load(tmp_path / "r.npz"))
    arrays["cells_inc"] = arrays["cells_inc"].astype(np.int64)
    np.savez(tmp_path / "old.npz", **arrays)
    back = rn.load_regions(tmp_path / "old.npz")
    assert back.complex.cells.inc.dtype == INCIDENCE_DTYPE
    assert np.array_equal(back.complex.cells.inc, regions.complex.cells.inc)
    assert np.array_equal(back.faces().f_vector, regions.faces().f_vector)
    arrays["cells_inc"][0] = 2 ** 31
    np.savez(tmp_path / "wrapped.npz", **arrays)
    with pytest.raises(rn.RegionEnumError, match="cells_inc holds constraint ids out of range"):
        rn.load_regions(tmp_path / "wrapped.npz")
