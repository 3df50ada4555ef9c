"""scikit-learn MLPs: logits and predictions match the model's own, unsupported models are named."""
import numpy as np
import pytest

import regionenum as rn

sklearn = pytest.importorskip("sklearn")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402


def test_classifier_logits_match_predict_proba():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    clf = MLPClassifier(hidden_layer_sizes=(16, 12), max_iter=30, random_state=0).fit(X[:400], y[:400])
    net = rn.Network.from_sklearn(clf)
    logits = net(X[:200])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(p / p.sum(axis=1, keepdims=True), clf.predict_proba(X[:200]), rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_[np.argmax(logits, axis=1)], clf.predict(X[:200]))


def test_regressor_and_identity_activation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.sin(X[:, 0]) + X[:, 1]
    for act in ("relu", "identity"):
        reg = MLPRegressor(hidden_layer_sizes=(10,), activation=act, max_iter=50, random_state=0).fit(X, y)
        net = rn.Network.from_sklearn(reg)
        np.testing.assert_allclose(net(X)[:, 0], reg.predict(X), rtol=1e-6, atol=1e-12)


def test_unsupported_models_are_named():
    X = np.random.default_rng(1).normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(rn.InvalidNetworkError, match="'tanh' is not piecewise linear"):
        rn.Network.from_sklearn(MLPClassifier(hidden_layer_sizes=(4,), activation="tanh", max_iter=5).fit(X, y))
    with pytest.raises(rn.InvalidNetworkError, match="not fitted"):
        rn.Network.from_sklearn(MLPClassifier(hidden_layer_sizes=(4,)))
    from sklearn.linear_model import LogisticRegression
    with pytest.raises(rn.InvalidNetworkError, match="got LogisticRegression"):
        rn.Network.from_sklearn(LogisticRegression().fit(X, y))


def test_poisson_regressor_output_is_rejected():
    X = np.random.default_rng(2).normal(size=(60, 2))
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), max_iter=5).fit(X, np.abs(X[:, 0]))
    with pytest.raises(rn.InvalidNetworkError, match="'exp'"):
        rn.Network.from_sklearn(reg)
