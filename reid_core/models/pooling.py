"""Global pooling of a feature map ``[B, C, h, w]`` into a vector ``[B, C * out_multiplier]``.

* ``avg``: global average pooling (GAP).
* ``max``: global max pooling.
* ``maxavg``: max and average pooled vectors concatenated in the order ``[max, avg]`` (2C dims, as in CAL/AIM).
* ``gem``: generalised mean ``(mean(clamp(x, eps)^p))^(1/p)`` with a learnable ``p`` (init 3, eps 1e-6);
  ``p = 1`` is average pooling and ``p -> inf`` tends to max pooling.
"""

from __future__ import annotations

import torch
from torch import nn


class AvgPool(nn.Module):
    """Global average pooling to ``[B, C]``."""

    out_multiplier = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, h, w]`` -> ``[B, C]``."""
        return x.mean(dim=(2, 3))


class MaxPool(nn.Module):
    """Global max pooling to ``[B, C]``."""

    out_multiplier = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, h, w]`` -> ``[B, C]``."""
        return x.amax(dim=(2, 3))


class MaxAvgPool(nn.Module):
    """``[max, avg]`` concatenated: ``[B, C, h, w]`` -> ``[B, 2C]``."""

    out_multiplier = 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, h, w]`` -> ``[B, 2C]`` with the max-pooled half first."""
        return torch.cat([x.amax(dim=(2, 3)), x.mean(dim=(2, 3))], dim=1)


class GeM(nn.Module):
    """Generalised-mean pooling (Radenovic et al.) with one learnable exponent shared by all channels.

    Args:
        p: initial exponent (3).
        eps: lower clamp of the activations before the power (1e-6), so that fractional powers are defined.
        learnable: make ``p`` an ``nn.Parameter`` (it then gets weight decay like any parameter).
    """

    out_multiplier = 1

    def __init__(self, p: float = 3.0, eps: float = 1e-6, learnable: bool = True) -> None:
        super().__init__()
        p_tensor = torch.ones(1) * float(p)
        if learnable:
            self.p = nn.Parameter(p_tensor)
        else:
            self.register_buffer("p", p_tensor)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, h, w]`` -> ``[B, C]`` (computed in float32: ``eps ** p`` underflows in half precision)."""
        p = self.p.float()
        # a mean over the map, not avg_pool2d(kernel_size=x.shape): exportable with any input size (ONNX)
        pooled = x.float().clamp(min=self.eps).pow(p).mean(dim=(-2, -1), keepdim=True)
        return pooled.pow(1.0 / p).flatten(1).to(x.dtype)

    def extra_repr(self) -> str:
        return f"p={float(self.p.detach()[0]):.4f}, eps={self.eps}"


POOLINGS: dict[str, type[nn.Module]] = {"avg": AvgPool, "max": MaxPool, "maxavg": MaxAvgPool, "gem": GeM}


def build_pooling(name: str, **kwargs: float | bool) -> nn.Module:
    """The pooling called ``name`` (``avg``, ``max``, ``maxavg``, ``gem``); ``kwargs`` go to :class:`GeM`.

    The module has an ``out_multiplier`` attribute: the pooled vector has ``C * out_multiplier`` dims.
    """
    key = name.lower().replace("+", "").replace("_", "").replace("-", "")
    if key == "avgmax":
        raise ValueError("pooling 'avgmax' is ambiguous about the order; use 'maxavg' ([max, avg])")
    if key not in POOLINGS:
        raise ValueError(f"unknown pooling {name!r}; choose one of {', '.join(POOLINGS)}")
    if kwargs and key != "gem":
        raise ValueError(f"pooling {name!r} takes no options (got {sorted(kwargs)})")
    return POOLINGS[key](**kwargs)
