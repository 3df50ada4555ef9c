"""PyTorch models through torch.fx: outputs match torch, regions match hand-built networks, errors name the module."""
import numpy as np
import pytest

import regionenum as rn

torch = pytest.importorskip("torch")
nn = torch.nn


def _digits():
    """scikit-learn's digits, scaled to [0, 1] (the tests that use them skip without it)."""
    datasets = pytest.importorskip("sklearn.datasets")
    return datasets.load_digits(return_X_y=True)


def _conv_net():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2),
                      nn.Flatten(), nn.Sequential(nn.Linear(64, 16), nn.LeakyReLU(0.1)), nn.Dropout(0.3),
                      nn.Linear(16, 10))
    with torch.no_grad():
        m[1].running_mean.uniform_(-1, 1)
        m[1].running_var.uniform_(0.5, 2)
    return m.eval()


def test_torch_import_matches_torch():
    m = _conv_net().train()
    net = rn.Network.from_torch(m, (1, 8, 8))
    assert net.widths == (256, 16, 10)
    assert m.training and next(m.parameters()).dtype == torch.float32  # the user's module is untouched
    X = torch.randn(30, 1, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        ref = m.eval().double()(X).numpy()
    np.testing.assert_allclose(net(X.reshape(30, -1).numpy()), ref, rtol=1e-6, atol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_network_from_sklearn_and_torch_gives_the_same_regions():
    X, y = _digits()
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(12, 12), max_iter=20, random_state=0).fit(X / 16, y)
    m = nn.Sequential(nn.Linear(64, 12), nn.ReLU(), nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 10)).double()
    with torch.no_grad():
        for lin, W, b in zip([m[0], m[2], m[4]], clf.coefs_, clf.intercepts_):
            lin.weight.copy_(torch.from_numpy(W.T))
            lin.bias.copy_(torch.from_numpy(b))
    plane = rn.Slice.through(*(X[:3] / 16))
    a = rn.enumerate_regions(rn.Network.from_sklearn(clf), plane)
    b = rn.enumerate_regions(rn.Network.from_torch(m, (64,)), plane)
    assert len(a) > 10 and np.array_equal(a.packed_patterns, b.packed_patterns)
    np.testing.assert_allclose(a.volumes, b.volumes, rtol=1e-12)


def test_conv_net_on_a_plane_through_three_digits():
    X, _ = _digits()
    net = rn.Network.from_torch(_conv_net(), (1, 8, 8))
    plane = rn.Slice.through(*(X[[0, 10, 20]] / 16))
    regions = rn.enumerate_regions(net, plane)
    T = np.random.default_rng(0).uniform(-0.25, 1.25, (5000, 2))
    idx = regions.locate(T)
    assert np.all(idx >= 0)  # every sampled point of the plane is in an enumerated region
    np.testing.assert_allclose(regions.network(T), net(plane.to_input(T)), rtol=1e-9, atol=1e-9)
    assert regions.volumes.sum() == pytest.approx(1.5 ** 2)


class _ResidualBlock(nn.Module):
    """relu(x + conv(relu(bn(conv(x))))), the basic block of a ResNet."""

    def __init__(self, c):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(x + self.conv2(torch.relu(self.bn(self.conv1(x)))))


def test_torch_residual_and_max_pool_match_torch():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), _ResidualBlock(2),
                      nn.Flatten(), nn.Linear(32, 10)).eval()
    with torch.no_grad():
        m[3].bn.running_mean.uniform_(-1, 1)
        m[3].bn.running_var.uniform_(0.5, 2)
    net = rn.Network.from_torch(m, (1, 8, 8))
    assert [layer.activation.kind for layer in net.layers] == ["relu", "max", "relu", "relu", "identity"]
    assert net.layers[1].activation.groups == (4,) * 32
    assert len(net.layers[2].activation.linear) == 32  # the block's input, carried past its first ReLU
    X = torch.randn(50, 1, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        ref = m.double()(X).numpy()
    np.testing.assert_allclose(net(X.reshape(50, -1).numpy()), ref, rtol=1e-9, atol=1e-12)


def test_residual_mlp_gives_the_regions_of_the_hand_built_network():
    """An MLP block with a skip connection, against the same network written with linear units."""
    torch.manual_seed(3)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner, self.outer, self.head = nn.Linear(2, 6), nn.Linear(6, 2), nn.Linear(2, 1)

        def forward(self, x):
            return self.head(torch.relu(x + self.outer(torch.relu(self.inner(x)))))

    m = Block().double()
    net = rn.Network.from_torch(m, (2,))
    W1, b1 = m.inner.weight.detach().numpy(), m.inner.bias.detach().numpy()
    W2, b2 = m.outer.weight.detach().numpy(), m.outer.bias.detach().numpy()
    hand = rn.Network.from_layers(
        [(np.vstack([W1, np.eye(2)]), np.r_[b1, 0, 0]), (np.hstack([W2, np.eye(2)]), b2),
         (m.head.weight.detach().numpy(), m.head.bias.detach().numpy())],
        [rn.Activation("relu", linear=(6, 7)), "relu", "identity"])
    box = rn.Box([-2, -2], [2, 2])
    a, b = rn.enumerate_regions(net, box), rn.enumerate_regions(hand, box)
    assert len(a) > 10 and np.array_equal(a.packed_patterns, b.packed_patterns)
    from tests.oracles import lp_regions
    assert sorted(tuple(p) for p in a.patterns.tolist()) == lp_regions(hand, box.A, box.b)


class _Maxout(nn.Module):
    """Maxout of rank 3 written the usual way: a linear map, a view, torch.max over the rank."""

    def __init__(self, d, units, rank=3):
        super().__init__()
        self.lin, self.units, self.rank = nn.Linear(d, units * rank), units, rank

    def forward(self, x):
        return torch.max(self.lin(x).view(-1, self.units, self.rank), dim=2).values


def test_torch_maxout_gives_the_regions_of_the_maxout_network():
    torch.manual_seed(2)
    m = nn.Sequential(_Maxout(2, 4), nn.Linear(4, 1)).double()
    net = rn.Network.from_torch(m, (2,))
    assert net.layers[0].activation.groups == (3, 3, 3, 3)
    X = torch.randn(100, 2, dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_allclose(net(X.numpy()), m(X).numpy(), rtol=1e-12, atol=1e-12)
    hand = rn.Network.from_layers([(m[0].lin.weight.detach().numpy(), m[0].lin.bias.detach().numpy()),
                                   (m[1].weight.detach().numpy(), m[1].bias.detach().numpy())],
                                  [("maxout", 3), "identity"])
    box = rn.Box([-2, -2], [2, 2])
    a, b = rn.enumerate_regions(net, box), rn.enumerate_regions(hand, box)
    assert len(a) > 4 and np.array_equal(a.packed_patterns, b.packed_patterns)

    class Indices(nn.Module):
        def forward(self, x):
            return torch.max(x.view(-1, 2, 2), dim=2).indices.double()

    with pytest.raises(rn.InvalidNetworkError, match="indices of torch.max are not supported"):
        rn.Network.from_torch(Indices(), (4,))


def test_torch_functional_calls_and_pooling_variants():
    import torch.nn.functional as F

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv1d(1, 3, 3), nn.Linear(7, 2)

        def forward(self, x):
            h = F.max_pool1d(F.leaky_relu(self.conv(x), 0.2), 2, stride=1)  # overlapping windows
            h = torch.cat([h, -h[:, :1]], dim=1) * 0.5
            return self.fc(h.view(h.size(0), -1)[:, 1:]) - 1.0

    m = Functional().double()
    net = rn.Network.from_torch(m, (1, 5))
    X = torch.randn(40, 1, 5, dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_allclose(net(X.reshape(40, -1).numpy()), m(X).numpy(), rtol=1e-9, atol=1e-12)
    padded = nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1), nn.Flatten(), nn.Linear(4, 1)).double()
    net = rn.Network.from_torch(padded, (1, 4, 4))
    assert sorted(set(net.layers[0].activation.groups)) == [4, 6, 9]  # windows cut by the padding
    X = torch.randn(40, 1, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_allclose(net(X.reshape(40, -1).numpy()), padded(X).numpy(), rtol=1e-9, atol=1e-12)
    adaptive = nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten()).double()
    assert rn.Network.from_torch(adaptive, (2, 3, 3)).layers[0].activation.groups == (9, 9)


def test_torch_errors_name_the_module():
    with pytest.raises(rn.InvalidNetworkError, match=r"module '1' \(Sigmoid\) is not supported"):
        rn.Network.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Sigmoid()), (2,))
    with pytest.raises(rn.InvalidNetworkError, match="returning indices"):
        rn.Network.from_torch(nn.Sequential(nn.MaxPool1d(2, return_indices=True)), (1, 4))

    class Squash(nn.Module):
        def forward(self, x):
            return torch.tanh(x)

    with pytest.raises(rn.InvalidNetworkError, match="call function 'tanh' is not supported"):
        rn.Network.from_torch(Squash(), (3,))

    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(rn.InvalidNetworkError, match="cannot trace the module with torch.fx"):
        rn.Network.from_torch(Branchy(), (3,))

    class Product(nn.Module):
        def forward(self, x):
            return x * x

    with pytest.raises(rn.InvalidNetworkError, match="only sums of tensors of one shape are linear"):
        rn.Network.from_torch(Product(), (3,))
    class Noisy(nn.Module):
        def forward(self, x):
            return torch.nn.functional.dropout(x, 0.5)  # training=True by default

    with pytest.raises(rn.InvalidNetworkError, match="'dropout': called in training mode"):
        rn.Network.from_torch(Noisy(), (3,))
    with pytest.raises(rn.InvalidNetworkError, match="cannot apply it to shape"):
        rn.Network.from_torch(nn.Sequential(nn.Linear(3, 2)), (5,))
    with pytest.raises(rn.InvalidNetworkError, match="takes a torch.nn.Module"):
        rn.Network.from_torch(lambda x: x, (5,))


def test_cli_reads_a_pickled_torch_module(tmp_path):
    import json
    import subprocess
    import sys
    m = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    torch.save(m, tmp_path / "m.pt")
    torch.save(m.state_dict(), tmp_path / "sd.pt")
    run = subprocess.run([sys.executable, "-m", "regionenum.cli", "count", tmp_path / "m.pt", "--lo", "-1", "-1",
                          "--hi", "1", "1", "--json"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    expected = rn.count_regions(rn.Network.from_torch(m, (2,)), rn.Box([-1, -1], [1, 1]))
    assert json.loads(run.stdout)["regions"] == expected
    run = subprocess.run([sys.executable, "-m", "regionenum.cli", "count", tmp_path / "sd.pt", "--lo", "-1", "-1",
                          "--hi", "1", "1"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 2 and "state dict" in run.stderr
