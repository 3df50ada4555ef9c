"""Pictures: every colouring draws, in 1-D and 2-D, and bad requests are refused clearly."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

plt = pytest.importorskip("matplotlib.pyplot")


def _pixels(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())


@pytest.mark.parametrize("color_by", ["region", "linear", "output", "class"])
def test_2d_colourings(color_by):
    regions = rn.enumerate_regions(random_net([2, 10, 10, 3], 0), rn.Box([-1, -1], [1, 1]))
    fig, ax = plt.subplots()
    regions.plot(ax=ax, color_by=color_by)
    kinds = {"region": len(regions), "linear": regions.linear_regions().count,
             "output": len(regions), "class": len(regions.decision_regions().piece_class)}
    assert len(ax.collections[0].get_paths()) >= min(kinds[color_by], len(regions))
    assert len(np.unique(_pixels(fig).reshape(-1, 4), axis=0)) > 10
    plt.close(fig)


def test_1d_function_with_breakpoints():
    regions = rn.enumerate_regions(random_net([1, 8, 8, 1], 1), rn.Box([-2.0], [2.0]))
    ax = regions.plot()
    xs = ax.lines[-1].get_xdata()
    assert len(xs) == len(regions) - 1  # one marker per inner breakpoint
    plt.close(ax.figure)


def test_bad_plot_requests():
    three = rn.enumerate_regions(random_net([3, 4, 1], 2), rn.Box(-np.ones(3), np.ones(3)))
    with pytest.raises(rn.RegionEnumError, match="restrict"):
        three.plot()
    plane = rn.enumerate_regions(random_net([2, 4, 1], 3), rn.Polytope.whole_space(2))
    with pytest.raises(rn.RegionEnumError, match="bounded domain"):
        plane.plot()
    square = rn.enumerate_regions(random_net([2, 4, 1], 3), rn.Box([-1, -1], [1, 1]))
    with pytest.raises(rn.RegionEnumError, match="color_by"):
        square.plot(color_by="rainbow")
    with pytest.raises(rn.RegionEnumError, match="output must be"):
        square.plot(output=3)
    square.plot(color_by="class")  # one output: a logit, classes by its sign
    plt.close("all")
