"""Frozen auxiliary networks held by a method (a keypoint estimator, a teacher).

Such a network is used in every forward pass but never trained: no gradients, BatchNorm on its
running statistics (eval mode), no DDP wrapper (nothing to all-reduce), no optimizer, and, when
its weights come from their own file, no place in the run's checkpoints.
:meth:`reid_core.methods.Method.add_module` with ``trainable=False`` applies :func:`freeze`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn


class FrozenModule(nn.Module):
    """Wraps a network so that it stays frozen: ``train(True)`` keeps it in eval mode, its
    parameters do not require gradients and ``forward`` runs under ``torch.no_grad()``.

    The wrapped network is ``.module`` (its state dict keys carry a ``module.`` prefix, as under
    DDP; the engine's ``unwrap`` removes it).
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module
        module.requires_grad_(False)
        nn.Module.train(self, False)

    def train(self, mode: bool = True) -> FrozenModule:
        """Ignore ``mode``: a frozen network always runs in eval mode."""
        return nn.Module.train(self, False)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The wrapped network's output, without building a graph."""
        with torch.no_grad():
            return self.module(*args, **kwargs)


def freeze(module: nn.Module) -> FrozenModule:
    """``module`` wrapped in :class:`FrozenModule` (a frozen one is returned as is)."""
    return module if isinstance(module, FrozenModule) else FrozenModule(module)


def check_no_frozen_parameters(
    optimizer_name: str, optimizer: torch.optim.Optimizer, frozen: Mapping[str, nn.Module]
) -> None:
    """Raise ``ValueError`` if ``optimizer`` holds a parameter of a frozen module (naming both)."""
    owners = {id(p): name for name, module in frozen.items() for p in module.parameters()}
    for group in optimizer.param_groups:
        for param in group["params"]:
            if id(param) in owners:
                raise ValueError(
                    f"optimizer {optimizer_name!r} holds parameters of the frozen module {owners[id(param)]!r}; "
                    "a module added with trainable=False is never optimised"
                )
