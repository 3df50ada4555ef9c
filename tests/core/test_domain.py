"""Domains: boxes and polytopes checked on construction, with errors naming the argument."""
import numpy as np
import pytest

import regionenum as rn
from tests.oracles import random_net

BOX2 = rn.Box([-1, -1], [1, 1])


@pytest.mark.parametrize("make,message", [
    (lambda: rn.Box([0, 0], [1, 0]), r"lo\[1\] = 0.0 is not below hi\[1\] = 0.0"),
    (lambda: rn.Box([0, 2], [1, 1]), r"lo\[1\] = 2.0 is not below"),
    (lambda: rn.Box([0, np.nan], [1, 1]), "non-finite"),
    (lambda: rn.Box([0, 0], [1, 1, 1]), "shape"),
    (lambda: rn.Polytope(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, 1.0])), "empty"),
    (lambda: rn.Polytope(np.array([[0.0, 0.0]]), np.array([-1.0])), "row 0 of A is zero"),
    (lambda: rn.Polytope(np.ones((2, 2)), np.zeros(3)), "b has shape"),
])
def test_bad_domains_are_rejected(make, message):
    with pytest.raises(rn.InvalidDomainError, match=message):
        make()


def test_domain_dimension_must_match_network():
    with pytest.raises(rn.InvalidDomainError, match="dimension 3 but the network takes 2"):
        rn.enumerate_regions(random_net([2, 4, 1], 0), rn.Box([0, 0, 0], [1, 1, 1]))
