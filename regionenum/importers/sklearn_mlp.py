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
    scikit-learn MLP; see :meth:`Network.from_sklearn <regionenum.Network.from_sklearn>`."""
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
