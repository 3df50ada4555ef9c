"""Networks from other libraries' models. Every layer is converted or the import fails naming
it; nothing is dropped.

- PyTorch (:mod:`.torch_fx`): modules traced with ``torch.fx`` (``nn.Sequential``, nested, or
  with their own ``forward``, residual blocks included) of affine operations (dense,
  convolution, pooling by average, batch norm, ...), ReLU/LeakyReLU and max-pooling.
- ONNX (:mod:`.onnx_graph`, the ``onnx`` extra): a graph of affine operators, ReLU/LeakyReLU and
  MaxPool, traced symbolically.
- scikit-learn (:mod:`.sklearn_mlp`): ``MLPClassifier`` and ``MLPRegressor`` with ``relu`` or
  ``identity`` hidden activations.

Both graph importers share :mod:`.tracing`: each tensor is an affine function of the last
activation's output, each activation closes a layer, and tensors used again after an
activation (skip connections) are carried through it as linear units.
"""
from .onnx_graph import from_onnx
from .sklearn_mlp import from_sklearn
from .torch_fx import from_torch

__all__ = ["from_onnx", "from_sklearn", "from_torch"]
