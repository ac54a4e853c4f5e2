"""Exact resume: an interrupted and resumed run ends with the same weights as an uninterrupted one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from engine_support import Dummy, DummyManual, EnginePlugin, final_weights, make_config, one_thread

from reid_core.engine import train_run
from reid_core.testing import active_plugin_manager, plugin_manager_with

_one_thread = pytest.fixture(autouse=True)(one_thread)


@pytest.fixture
def plugin(tmp_path: Path):
    with active_plugin_manager(plugin_manager_with(EnginePlugin(tmp_path / "data"), name="engine-test")) as manager:
        yield manager


def _interrupted_then_resumed(method, config, out: Path, at: int) -> dict:
    Dummy.interrupt_at = at
    try:
        with pytest.raises(KeyboardInterrupt):
            train_run(method, config, output_dir=out, resume=False)
    finally:
        Dummy.interrupt_at = None
    assert (out / "checkpoints" / "last.pt").exists()
    return train_run(method, config, output_dir=out, resume=True)


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for module in a:
        assert a[module].keys() == b[module].keys()
        for key in a[module]:
            torch.testing.assert_close(a[module][key], b[module][key], rtol=1e-6, atol=1e-7, msg=f"{module}.{key}")


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker"])
def test_resume_gives_the_same_weights(plugin, tmp_path: Path, workers: int) -> None:
    """Random augmentation in the main process or in a loader worker is replayed exactly."""
    config = make_config(Dummy, dummy={"epochs": 2}, data={"num_workers": workers})
    straight = train_run(Dummy, config, output_dir=tmp_path / "a", resume=False)
    resumed = _interrupted_then_resumed(Dummy, config, tmp_path / "b", at=1)
    _assert_same(final_weights(tmp_path / "a"), final_weights(tmp_path / "b"))
    assert straight == resumed


@pytest.mark.parametrize("at", [1, 2], ids=["mid-stage", "stage-boundary"])
def test_resume_multi_stage_manual_two_loaders_pseudo_labels(plugin, tmp_path: Path, at: int) -> None:
    """ICSR/AIM/camera-mixup paths: 2 stages, manual optimisation with 2 optimizers, 2 loaders,
    features extracted before each epoch, pseudo labels with outliers, method state."""
    sections = {"dummy_manual": {"epochs": 2, "stages": 2, "two_loaders": True, "pseudo": True, "iters": 3}}
    config = make_config(DummyManual, **sections)
    train_run(DummyManual, config, output_dir=tmp_path / "a", resume=False)
    _interrupted_then_resumed(DummyManual, config, tmp_path / "b", at=at)
    a, b = final_weights(tmp_path / "a"), final_weights(tmp_path / "b")
    assert set(a) == {"net", "head"}
    _assert_same(a, b)
    state_a = torch.load(tmp_path / "a" / "checkpoints" / "last.pt", weights_only=True)
    state_b = torch.load(tmp_path / "b" / "checkpoints" / "last.pt", weights_only=True)
    assert state_a["global_step"] == state_b["global_step"] == 4 * 3
    assert state_a["stage_index"] == 1 and state_a["finished"]
    torch.testing.assert_close(state_a["method_state"]["memory"], state_b["method_state"]["memory"])
    for name in ("net", "head"):
        assert state_a["optimizers"][name]["state"].keys() == state_b["optimizers"][name]["state"].keys()
