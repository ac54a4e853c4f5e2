"""Frozen auxiliary networks: device, eval mode through ``Method.train()``, no DDP, no optimizer, no checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from engine_support import Dummy, EnginePlugin, final_weights, make_config, one_thread
from torch import nn

from reid_core.engine import train_run
from reid_core.engine.checkpoint import unwrap
from reid_core.methods.frozen import FrozenModule
from reid_core.testing import active_plugin_manager, plugin_manager_with

_one_thread = pytest.fixture(autouse=True)(one_thread)


def _aux() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Dropout(0.5))


class _Ctx:
    device = torch.device("cpu")

    def __init__(self) -> None:
        self.prepared: list[nn.Module] = []

    def prepare(self, module: nn.Module, **_: Any) -> nn.Module:
        self.prepared.append(module)
        return module


class _Bare(Dummy):
    def __init__(self) -> None:  # no config needed for the registration tests
        self.ctx = _Ctx()
        self._optimizers, self._schedulers, self._modules, self._frozen = {}, {}, {}, {}


def test_frozen_module_is_not_prepared_saved_trained_or_optimised() -> None:
    method = _Bare()
    trained = method.add_module("net", nn.Linear(2, 2))
    aux = method.add_module("aux", _aux(), trainable=False, persistent=False)
    assert isinstance(aux, FrozenModule) and method.ctx.prepared == [trained]  # never given to prepare (DDP)
    assert set(method.modules()) == {"net"} and set(method.frozen_modules()) == {"aux"}
    assert not any(p.requires_grad for p in aux.parameters())
    method.train(True)
    assert trained.training and not any(m.training for m in aux.modules())
    aux.train(True)  # even a direct call keeps it in eval mode
    assert not any(m.training for m in aux.modules())
    out = aux(torch.randn(2, 3, 8, 8))
    assert not out.requires_grad
    with pytest.raises(ValueError, match="frozen module 'aux'"):
        method.add_optimizer("all", torch.optim.SGD([*trained.parameters(), *aux.parameters()], lr=0.1))
    with pytest.raises(ValueError, match="must be persistent"):
        method.add_module("bad", nn.Linear(2, 2), persistent=False)
    kept = method.add_module("teacher", _aux(), trainable=False)  # frozen but checkpointed
    assert "teacher" in method.modules() and "module.0.weight" not in unwrap(kept).state_dict()
    method.reset()
    assert method.frozen_modules() == {}


class FrozenAux(Dummy):
    """The dummy method with a frozen BN network applied to every batch."""

    name = "dummy"
    seen_training: list[bool] = []

    def setup_stage(self, stage: Any) -> None:
        super().setup_stage(stage)
        self.aux = self.add_module("aux", _aux(), trainable=False, persistent=False)

    def training_step(self, batch: dict[str, Any], step: Any) -> dict[str, torch.Tensor]:
        FrozenAux.seen_training.append(any(m.training for m in self.aux.modules()))
        losses = self.losses(batch, step)
        losses["aux"] = 0.0 * self.aux(batch["train"]["img"]).mean()  # no graph: a plain constant
        return losses


def test_frozen_module_through_a_training_run(tmp_path: Path) -> None:
    """A run trains the method's net, keeps the frozen network unchanged (BN statistics too) and
    in eval mode, and writes no key of it into the checkpoint."""
    with active_plugin_manager(plugin_manager_with(EnginePlugin(tmp_path / "data"), name="engine-test")):
        before = {k: v.clone() for k, v in _aux().state_dict().items()}
        FrozenAux.seen_training = []
        config = make_config(Dummy, dummy={"epochs": 1})
        method_holder: dict[str, Any] = {}

        class Spy(FrozenAux):
            def setup_stage(self, stage: Any) -> None:
                super().setup_stage(stage)
                method_holder["m"] = self

        train_run(Spy, config, output_dir=tmp_path / "run", resume=False)
    assert FrozenAux.seen_training and not any(FrozenAux.seen_training)
    assert set(final_weights(tmp_path / "run")) == {"net"}
    after = unwrap(method_holder["m"].aux).state_dict()
    for key, value in before.items():
        torch.testing.assert_close(after[key], value, rtol=0, atol=0)
