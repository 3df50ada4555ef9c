"""Slices: lines and planes through inputs."""
import numpy as np
import pytest

import regionenum as rn


def test_slice_errors():
    with pytest.raises(rn.InvalidDomainError, match="collinear"):
        rn.Slice.through([0, 0, 0], [1, 1, 1], [2, 2, 2])
    with pytest.raises(rn.InvalidDomainError, match="2 points"):
        rn.Slice.through([0, 0])
    net = rn.Network.from_layers([(np.eye(3), np.zeros(3)), (np.ones((1, 3)), np.zeros(1))])
    with pytest.raises(rn.InvalidDomainError, match="slice lives in 2 inputs"):
        rn.count_regions(net, rn.Slice.through([0, 0], [1, 0], [0, 1]))
    line = rn.Slice.through([0.0, -1.0, 0.5], [0.0, 1.0, 0.5])
    assert rn.count_regions(net, line) == 2  # the line crosses x1 = 0 once
