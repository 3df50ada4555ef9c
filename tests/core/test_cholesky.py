"""Whether a symmetric matrix has a float64 Cholesky factor: LAPACK's routine called directly
gives numpy's answer, on both sides of the boundary, and so does the fallback."""
import numpy as np
import pytest

from regionenum.core import cholesky
from regionenum.core.cholesky import has_cholesky_factor


def _numpy_answer(B) -> bool:
    try:
        np.linalg.cholesky(B)
    except np.linalg.LinAlgError:
        return False
    return True


def _matrices():
    """Symmetric matrices ``c I - G`` with ``c`` just below, at and just above the largest
    eigenvalue of a Gram matrix ``G``, of several orders; and a few by hand."""
    rng = np.random.default_rng(5)
    for k in (1, 2, 3, 17, 64, 200):
        W = rng.normal(size=(k + 3, k))
        G = W.T @ W
        top = np.linalg.eigvalsh(G)[-1]
        for factor in (0.99, 1.0 - 1e-9, 1.0 + 1e-6, 1.01, 2.0):
            yield f"order {k}, c = {factor} x top", top * factor * np.eye(k) - G
    yield "zero pivot", np.array([[1.0, 1.0], [1.0, 1.0]])
    yield "negative diagonal", np.array([[-1.0, 0.0], [0.0, 1.0]])
    yield "identity", np.eye(5)


@pytest.mark.parametrize("direct", [True, False], ids=["LAPACK called directly", "numpy"])
@pytest.mark.parametrize("name, B", list(_matrices()), ids=[name for name, _ in _matrices()])
def test_the_answer_is_numpys(name, B, direct, monkeypatch):
    if not direct:
        monkeypatch.setattr(cholesky, "_numpy_potrf", lambda: None)
    expected = _numpy_answer(B)
    assert has_cholesky_factor(B.copy()) == expected
    assert has_cholesky_factor(np.asfortranarray(B)) == expected


def test_the_routine_is_found_where_numpy_ships_openblas():
    """NumPy's wheels ship OpenBLAS as a library of their own; where this numpy does, the binding
    is made (and checked on its two small matrices), or the speed-up silently went away."""
    config = str(np.show_config(mode="dicts")).lower() if hasattr(np, "show_config") else ""
    if "openblas" not in config:
        pytest.skip("this numpy's LAPACK is not OpenBLAS")
    assert cholesky._numpy_potrf() is not None


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="square float64"):
        has_cholesky_factor(np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="square float64"):
        has_cholesky_factor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="contiguous"):
        has_cholesky_factor(np.eye(4)[::2, ::2])
    read_only = np.eye(2)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        has_cholesky_factor(read_only)
