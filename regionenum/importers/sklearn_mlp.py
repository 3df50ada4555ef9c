"""scikit-learn MLPs: ``MLPClassifier`` and ``MLPRegressor`` with ``relu`` or ``identity`` hidden
activations. The network's outputs are the model's last pre-activations: the logits of a
classifier (its ``predict`` is their argmax, or for one output their sign), the predictions of a
regressor.
"""
from __future__ import annotations

from ..core.network import Network
from ..errors import InvalidNetworkError

__all__ = ["from_sklearn"]

_SKLEARN_ACTIVATIONS = {"relu": "relu", "identity": "identity"}


def from_sklearn(estimator) -> Network:
    """A :class:`~regionenum.Network` computing the last pre-activations of a fitted
    scikit-learn MLP.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        Fitted, with ``relu`` or ``identity`` hidden activations.

    Returns
    -------
    Network

    Raises
    ------
    InvalidNetworkError
        Another estimator, an unfitted one, or an activation that is not piecewise linear.

    Examples
    --------
    >>> from sklearn.neural_network import MLPRegressor     # doctest: +SKIP
    >>> import numpy as np, regionenum as rn                # doctest: +SKIP
    >>> X = np.random.default_rng(0).uniform(-1, 1, (50, 2))  # doctest: +SKIP
    >>> model = MLPRegressor((6,), max_iter=50).fit(X, X.sum(axis=1))  # doctest: +SKIP
    >>> rn.Network.from_sklearn(model)                      # doctest: +SKIP
    Network(widths=(2, 6, 1), activations=[relu, identity])
    """
    kind = type(estimator).__name__
    if kind not in ("MLPClassifier", "MLPRegressor"):
        raise InvalidNetworkError(f"from_sklearn takes an MLPClassifier or MLPRegressor, got {kind}")
    if not hasattr(estimator, "coefs_"):
        raise InvalidNetworkError(f"the {kind} is not fitted yet (no coefs_)")
    act = estimator.activation
    if act not in _SKLEARN_ACTIVATIONS:
        raise InvalidNetworkError(f"{kind} activation {act!r} is not piecewise linear; supported: "
                                  f"{sorted(_SKLEARN_ACTIVATIONS)}")
    out = getattr(estimator, "out_activation_", "identity")
    if kind == "MLPRegressor" and out != "identity":
        raise InvalidNetworkError(f"MLPRegressor output activation {out!r} (from its loss) is not "
                                  "piecewise linear")
    layers = [(W.T, b) for W, b in zip(estimator.coefs_, estimator.intercepts_)]
    activations = [_SKLEARN_ACTIVATIONS[act]] * (len(layers) - 1) + ["identity"]
    return Network.from_layers(layers, activations)
