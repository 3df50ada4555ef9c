"""Models and inputs from files as the command line reads them: the input shape of a PyTorch
module is read only where it cannot be anything else, and every refusal names the file."""
import numpy as np
import pytest

import regionenum as rn
from regionenum.io.models import load_input, load_model, torch_input_shape
from tests.oracles import random_net


def test_npz_and_refused_formats(tmp_path):
    net = random_net([2, 4, 1], 0)
    rn.save(tmp_path / "n.npz", net, rn.Box([0, 0], [1, 1]))
    back, box = load_model(tmp_path / "n.npz")
    assert np.allclose(back(np.eye(2)), net(np.eye(2))) and box.dim == 2
    with pytest.raises(rn.InvalidArgumentError, match="for .pt models only"):
        load_model(tmp_path / "n.npz", (2,))
    with pytest.raises(rn.FileFormatError, match="unsupported model format '.h5'"):
        load_model(tmp_path / "n.h5")
    with pytest.raises(rn.MissingFileError, match="no such file"):
        load_model(tmp_path / "m.pt")


def test_torch_input_shape_only_when_unambiguous(tmp_path):
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 3)

        def forward(self, x):
            return self.fc(torch.flatten(x, 1))

    class Views(nn.Module):  # x.view(x.size(0), -1): the input feeds two operations
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 3)

        def forward(self, x):
            return self.fc(x.view(x.size(0), -1))

    assert torch_input_shape(nn.Sequential(nn.Linear(5, 3), nn.ReLU())) == ((5,), "")
    assert torch_input_shape(nn.Sequential(nn.Sequential(nn.Flatten(), nn.Linear(5, 3)))) == ((5,), "")
    assert torch_input_shape(Flat()) == ((12,), "")
    shape, why = torch_input_shape(Views())
    assert shape is None and "several operations" in why
    shape, why = torch_input_shape(nn.Sequential(nn.ReLU(), nn.Linear(5, 3)))
    assert shape is None and "first operation (module '0', ReLU)" in why
    shape, why = torch_input_shape(nn.Sequential(nn.Flatten(0), nn.Linear(5, 3)))  # flattens the batch too
    assert shape is None and "Flatten" in why
    shape, why = torch_input_shape(nn.Sequential(nn.Flatten(), nn.ReLU(), nn.Linear(5, 3)))
    assert shape is None and "after its Flatten (module '1', ReLU) is not a Linear" in why
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 1))
    torch.save(conv, tmp_path / "conv.pt")
    with pytest.raises(rn.InvalidArgumentError, match="give the input shape .*Conv2d"):
        load_model(tmp_path / "conv.pt")
    net, box = load_model(tmp_path / "conv.pt", (1, 4, 4))
    assert net.input_dim == 16 and box is None
    torch.save(conv.state_dict(), tmp_path / "sd.pt")
    with pytest.raises(rn.InvalidNetworkError, match="state dict"):
        load_model(tmp_path / "sd.pt")
    (tmp_path / "text.pt").write_text("not a torch file")
    with pytest.raises(rn.FileFormatError, match="not a PyTorch file"):
        load_model(tmp_path / "text.pt")


def test_inputs_from_npy_files(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(6.0).reshape(1, 2, 3))
    assert load_input(tmp_path / "x.npy", 6).tolist() == [0, 1, 2, 3, 4, 5]
    with pytest.raises(rn.FileFormatError, match="the model takes 4 numbers"):
        load_input(tmp_path / "x.npy", 4)
    np.save(tmp_path / "nan.npy", np.array([1.0, np.nan]))
    with pytest.raises(rn.FileFormatError, match="not every value is finite"):
        load_input(tmp_path / "nan.npy", 2)
    (tmp_path / "t.npy").write_text("text")
    with pytest.raises(rn.FileFormatError, match="is not a .npy array"):
        load_input(tmp_path / "t.npy", 2)
    with pytest.raises(rn.FileFormatError, match="inputs are .npy files"):
        load_input(tmp_path / "x.csv", 2)
    with pytest.raises(rn.MissingFileError):
        load_input(tmp_path / "none.npy", 2)
