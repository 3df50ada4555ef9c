"""Pictures: every colouring draws, in 1-D and 2-D; neighbours never share a colour; outputs are
shaded with the network's own values at every vertex; axes, points and legends say what is
shown; bad requests are refused clearly."""
import numpy as np
import pytest

import regionenum as rn
from regionenum.plotting import PALETTE, neighbour_colouring
from tests.oracles import random_net

plt = pytest.importorskip("matplotlib.pyplot")
BOX2 = rn.Box([-1, -1], [1, 1])


def _pixels(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())


@pytest.fixture(scope="module")
def regions():
    return rn.enumerate_regions(random_net([2, 10, 10, 3], 0), BOX2)


@pytest.fixture(scope="module")
def merging():
    """A net whose last layer ignores half the units: many activation regions share a map."""
    rng = np.random.default_rng(1)
    W2 = rng.normal(size=(2, 10))
    W2[:, 5:] = 0
    net = rn.Network.from_layers([(rng.normal(size=(10, 2)), 0.5 * rng.normal(size=10)), (W2, np.zeros(2))])
    return rn.enumerate_regions(net, BOX2)


def _fill(ax):
    """The face colours of the regions' fill (the first collection)."""
    return ax.collections[0].get_facecolors()


def _touching(regions):
    G = regions.adjacency_graph()
    return np.array(list(G.edges()), np.int64).reshape(-1, 2)


@pytest.mark.parametrize("color_by", ["region", "linear", "output", "class"])
def test_2d_colourings_draw(regions, color_by):
    fig, ax = plt.subplots()
    regions.plot(ax=ax, color_by=color_by)
    assert len(np.unique(_pixels(fig).reshape(-1, 4), axis=0)) > 10
    assert ax.get_xlabel() == "x0" and ax.get_ylabel() == "x1"
    plt.close(fig)


def test_neighbouring_regions_never_share_a_colour(regions):
    fig, ax = plt.subplots()
    regions.plot(ax=ax, color_by="region")
    colours = _fill(ax)
    assert len(colours) == len(regions)
    pairs = _touching(regions)
    assert len(pairs) and not np.any(np.all(colours[pairs[:, 0]] == colours[pairs[:, 1]], axis=1))
    used = np.unique(colours, axis=0)
    assert 3 <= len(used) <= 6  # variety, from the qualitative palette
    palette = {tuple(np.round(plt.matplotlib.colors.to_rgba(c), 6)) for c in PALETTE}
    assert {tuple(np.round(c, 6)) for c in used} <= palette
    plt.close(fig)


def test_linear_regions_coloured_as_wholes(merging):
    lin = merging.linear_regions()
    assert lin.count < len(merging)  # the fixture merges
    fig, ax = plt.subplots()
    merging.plot(ax=ax, color_by="linear")
    colours = _fill(ax)
    group = lin.region_group
    pairs = _touching(merging)
    same = group[pairs[:, 0]] == group[pairs[:, 1]]
    equal = np.all(colours[pairs[:, 0]] == colours[pairs[:, 1]], axis=1)
    assert np.all(equal[same]) and not np.any(equal[~same])  # one colour per linear region; touching differ
    # the edges inside a linear region are drawn dotted, and the legend says what each line is
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "edge of a linear region" and "one map" in labels[1]
    plt.close(fig)


def test_output_shaded_with_the_networks_values_at_every_vertex(regions):
    """Each region's exact affine map evaluated at its vertices: the shading interpolates values
    the network itself takes, so neighbours agree along their edges (no false jumps)."""
    fig, ax = plt.subplots()
    regions.plot(ax=ax, color_by="output", output=2)
    values = np.sort(np.asarray(ax.collections[0].get_array()))  # one per vertex of each region
    assert np.allclose(values, np.sort(regions.network(regions.vertices)[:, 2]), atol=1e-9)
    assert fig.axes[-1].get_ylabel() == "output 2"  # the colour bar says what the colours mean
    plt.close(fig)


def test_classes_have_a_legend_and_the_boundary(regions):
    fig, ax = plt.subplots()
    regions.plot(ax=ax, color_by="class")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    classes = np.unique(regions.decision_regions().classes)
    assert labels == [f"class {c}" for c in classes] + ["decision boundary"]
    plt.close(fig)


def test_axis_names_and_marked_points(regions):
    fig, ax = plt.subplots()
    points = {"a.npy (t1, t2 = 0, 0)": (0.0, 0.0), "b.npy (t1, t2 = 1, 0)": (0.5, -0.5)}
    regions.plot(ax=ax, labels=("t1", "t2"), points=points)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("t1", "t2")
    marked = [tuple(np.concatenate([line.get_xdata(), line.get_ydata()])) for line in ax.lines]
    assert marked == [(0.0, 0.0), (0.5, -0.5)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(points)
    plt.close(fig)


def test_incomplete_results(regions):
    part = rn.enumerate_regions(regions.network, BOX2, max_regions=25)
    fig, ax = plt.subplots()
    part.plot(ax=ax, color_by="region")  # neighbours from shared vertices
    colours = _fill(ax)
    assert len(colours) == 25
    with pytest.raises(rn.IncompleteResultError, match="linear regions cannot come from an incomplete"):
        part.plot(ax=ax, color_by="linear")
    plt.close(fig)


def test_neighbour_colouring_of_planar_graphs():
    from scipy.spatial import Delaunay
    for seed in range(5):
        tri = Delaunay(np.random.default_rng(seed).uniform(size=(300, 2)))
        edges = np.concatenate([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [0, 2]]])
        colour = neighbour_colouring(300, edges[:, 0], edges[:, 1])
        assert np.all(colour[edges[:, 0]] != colour[edges[:, 1]])
        counts = np.bincount(colour)
        assert len(counts) <= 6 and counts.min() > 0.5 * counts.max()  # balanced
    assert sorted(neighbour_colouring(3, [], []).tolist()) == [0, 1, 2]  # no edges: still spread out


def test_1d_function_with_breakpoints():
    regions = rn.enumerate_regions(random_net([1, 8, 8, 1], 1), rn.Box([-2.0], [2.0]))
    ax = regions.plot(labels=("t",), points={"a.npy (t = 0)": (0.0,), "b.npy (t = 1)": (1.0,)})
    breaks = [line for line in ax.lines if line.get_label().endswith("breakpoints")]
    assert len(breaks) == 1 and len(breaks[0].get_xdata()) == len(regions) - 1  # one per inner breakpoint
    marks = [line for line in ax.lines if line.get_label().startswith(("a.npy", "b.npy"))]
    assert [m.get_xdata()[0] for m in marks] == [0.0, 1.0]
    assert np.allclose([m.get_ydata()[0] for m in marks], regions.network(np.array([[0.0], [1.0]]))[:, 0])
    assert ax.get_xlabel() == "t"
    plt.close(ax.figure)


def test_bad_plot_requests():
    three = rn.enumerate_regions(random_net([3, 4, 1], 2), rn.Box(-np.ones(3), np.ones(3)))
    with pytest.raises(rn.RegionEnumError, match="restrict"):
        three.plot()
    plane = rn.enumerate_regions(random_net([2, 4, 1], 3), rn.Polytope.whole_space(2))
    with pytest.raises(rn.RegionEnumError, match="bounded domain"):
        plane.plot()
    square = rn.enumerate_regions(random_net([2, 4, 1], 3), BOX2)
    with pytest.raises(rn.RegionEnumError, match="color_by"):
        square.plot(color_by="rainbow")
    with pytest.raises(rn.RegionEnumError, match="output must be"):
        square.plot(output=3)
    with pytest.raises(rn.RegionEnumError, match="labels must name 2 axes"):
        square.plot(labels=("t",))
    with pytest.raises(rn.RegionEnumError, match="points must have 2 coordinates"):
        square.plot(points={"a": (0.0,)})
    square.plot(color_by="class")  # one output: a logit, classes by its sign
    plt.close("all")
