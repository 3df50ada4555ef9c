"""A PyTorch activation module :func:`~regionenum.Network.from_torch` reads as a spline.

Importing this module needs PyTorch (the ``torch`` extra); nothing else in regionenum imports
it at module level.
"""
from __future__ import annotations

from ..errors import MissingDependencyError

try:
    import torch
except ImportError:  # pragma: no cover - depends on the installation
    raise MissingDependencyError("PiecewiseLinear is a torch module: pip install torch") from None

__all__ = ["PiecewiseLinear"]


class PiecewiseLinear(torch.nn.Module):
    """A continuous piecewise-linear activation with learnable breakpoints, slopes and value,
    shared by all units or one per channel (dimension 1 of the input, as for ``nn.PReLU``).

    On each unit, with breakpoints ``t_1 < ... < t_m``, slopes ``s_0, ..., s_m`` and value
    ``v = f(t_1)``: ``f(x) = v + s_0 (x - t_1) + sum_k (s_k - s_{k-1}) relu(x - t_k)``.
    :meth:`regionenum.Network.from_torch` imports it as ``rn.Activation.spline`` with the
    current values (exactly; the breakpoints must then increase and neighbouring slopes differ).

    Parameters
    ----------
    breakpoints : sequence of float, or array of shape (channels, m)
    slopes : sequence of float, or array of shape (channels, m + 1)
    value : float, or sequence of one per channel
    learnable : bool, optional
        Whether the three are ``nn.Parameter`` s (default) or fixed buffers.

    Examples
    --------
    >>> import torch, regionenum as rn
    >>> from regionenum.importers.torch_modules import PiecewiseLinear
    >>> model = torch.nn.Sequential(torch.nn.Linear(1, 2), PiecewiseLinear([-1.0, 1.0], [0.5, 1.0, 0.25]))
    >>> net = rn.Network.from_torch(model, input_shape=(1,))
    >>> net.source_layers[0].activation.kind
    'spline'
    """

    def __init__(self, breakpoints, slopes, value=0.0, learnable: bool = True):
        super().__init__()
        t = torch.as_tensor(breakpoints, dtype=torch.get_default_dtype())
        s = torch.as_tensor(slopes, dtype=torch.get_default_dtype())
        v = torch.as_tensor(value, dtype=torch.get_default_dtype())
        if t.dim() not in (1, 2) or s.shape[:-1] != t.shape[:-1] or s.shape[-1] != t.shape[-1] + 1 \
                or t.shape[-1] < 1 or v.shape not in ((), t.shape[:-1]):
            raise ValueError(f"PiecewiseLinear needs m >= 1 breakpoints, m + 1 slopes and one value "
                             f"(per channel, or shared); got shapes {tuple(t.shape)}, {tuple(s.shape)}, "
                             f"{tuple(v.shape)}")
        make = torch.nn.Parameter if learnable else (lambda x: x)
        for name, x in (("breakpoints", t), ("slopes", s), ("value", v)):
            if learnable:
                setattr(self, name, make(x.clone()))
            else:
                self.register_buffer(name, x.clone())

    def forward(self, x):
        t, s, v = self.breakpoints, self.slopes, self.value
        if t.dim() == 2:  # per channel: parameters along dimension 1 of x
            shape = (1, -1) + (1,) * (x.dim() - 2)
            terms = v.reshape(shape) + s[:, 0].reshape(shape) * (x - t[:, 0].reshape(shape))
            for k in range(t.shape[1]):
                step = (s[:, k + 1] - s[:, k]).reshape(shape)
                terms = terms + step * torch.relu(x - t[:, k].reshape(shape))
            return terms
        out = v + s[0] * (x - t[0])
        for k in range(t.shape[0]):
            out = out + (s[k + 1] - s[k]) * torch.relu(x - t[k])
        return out

    def unit_parameters(self) -> tuple:
        """``(breakpoints, slopes, value)`` as float64 numpy arrays: ``(C, m)``, ``(C, m + 1)``,
        ``(C,)``, with ``C = 1`` when shared."""
        t = self.breakpoints.detach().double().cpu().numpy()
        s = self.slopes.detach().double().cpu().numpy()
        v = self.value.detach().double().cpu().numpy()
        if t.ndim == 1:
            return t[None], s[None], v.reshape(1)
        return t, s, v.reshape(-1)
