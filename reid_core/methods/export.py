"""The default export module of a method: its ``extract_features`` on an images-only batch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from reid_core.engine.checkpoint import unwrap
from reid_core.methods.base import ExportError

if TYPE_CHECKING:
    from reid_core.methods.base import Method


class ExtractFeaturesModule(nn.Module):
    """``Method.extract_features({"img": images})`` as an ``nn.Module`` (what ``Method.export_module`` gives).

    The method's registered modules are held in a ``ModuleDict`` so that ``eval()``, ``to()``
    and tracing see their parameters. A method whose ``extract_features`` reads another batch
    key gets an :class:`ExportError` naming the key.
    """

    def __init__(self, method: Method) -> None:
        super().__init__()
        modules = {**method.modules(), **method.frozen_modules()}  # frozen auxiliary networks run at test time too
        self.parts = nn.ModuleDict({name: unwrap(m) for name, m in modules.items()})
        self._method = [method]  # in a list: not registered as a submodule

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Test features ``[B, D]`` (float32) of a batch of test-transformed images ``[B, 3, H, W]``."""
        method = self._method[0]
        try:
            return method.extract_features({"img": images}).float()
        except KeyError as exc:
            raise ExportError(
                f"method {method.name!r} cannot be exported as an images -> features model: its "
                f"extract_features reads batch[{exc.args[0]!r}] besides the images; the method must "
                "override Method.export_module() to say what it needs"
            ) from None
