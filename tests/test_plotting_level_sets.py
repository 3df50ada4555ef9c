"""Pictures of level sets: a 2-D level set over the regions, a 3-D mesh; wrong dimensions refused."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

plt = pytest.importorskip("matplotlib.pyplot")
from regionenum.plotting import plot_level_set, plot_mesh  # noqa: E402


def _l1(d):
    W = np.concatenate([np.eye(d), -np.eye(d)])
    return rn.Network.from_layers([(W, np.zeros(2 * d)), (np.ones((1, 2 * d)), np.zeros(1))])


def test_2d_level_set_over_the_regions():
    net = random_net([2, 10, 10, 1], 0)
    regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    level = regions.level_set(float(np.median(net(regions.interior_points))))
    ax = plot_level_set(level, regions=regions)
    segments = ax.collections[-1].get_segments()
    assert len(segments) == len(level.segments)
    np.testing.assert_allclose(np.array(segments), level.vertices[level.segments])
    plt.close(ax.figure)
    point = rn.enumerate_regions(_l1(2), rn.Box([-1, -1], [1, 1])).level_set(0.0)
    ax = point.plot()  # a lone vertex is a dot
    assert ax.lines[-1].get_xdata().tolist() == [0.0]
    plt.close(ax.figure)


def test_3d_mesh():
    level = rn.enumerate_regions(_l1(3), rn.Box(-2 * np.ones(3), 2 * np.ones(3))).level_set(1.0)
    ax = level.plot()
    fig = ax.figure
    fig.canvas.draw()
    assert len(ax.collections[0].get_facecolors()) == 8
    pixels = np.asarray(fig.canvas.buffer_rgba()).reshape(-1, 4)
    assert len(np.unique(pixels, axis=0)) > 20  # shaded faces
    plt.close(fig)
    with pytest.raises(rn.InvalidDomainError, match="3-D"):
        plot_mesh(rn.enumerate_regions(_l1(2), rn.Box([-2, -2], [2, 2])).level_set(1.0))
    with pytest.raises(rn.InvalidDomainError, match="2-D"):
        plot_level_set(level)
