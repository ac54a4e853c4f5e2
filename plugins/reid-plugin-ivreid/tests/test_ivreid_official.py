"""Importing the seed's released checkpoints: a state dict in the official key layout is converted and
evaluated (``reid ivreid-import``, then ``reid eval``); another layout is refused with its keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from reid_plugin_ivreid.official import convert_official, official_model

from reid_core.cli import build_cli
from reid_core.datasets.fixtures import write_layout
from reid_core.models.weights import WeightsError
from reid_core.plugins import get_plugin_manager

pytestmark = pytest.mark.slow

SMALL = ["--set", "data.height=64", "--set", "data.width=32", "--device", "cpu", "--option", "trial=2"]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(build_cli(get_plugin_manager()), list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, torch.Tensor]]:
    """A RegDB tree and a trained-looking state dict in the seed's layout (DataParallel prefixes)."""
    tmp = tmp_path_factory.mktemp("official")
    write_layout("regdb", tmp, ids=8, seed=0)
    torch.manual_seed(0)
    model = official_model(num_classes=4)
    state = {k: (v + 0.01 * torch.randn_like(v)) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    path = tmp / "Trial_2_res50_regdb_all_best.state.pth"
    torch.save({f"module.{k}": v for k, v in state.items()}, path)
    return tmp, path, state


def test_official_layout_is_the_seed_model(official: tuple[Path, Path, dict[str, torch.Tensor]]) -> None:
    _, _, state = official
    assert any(k.startswith("base.layer1.0.conv1.bias") for k in state)  # conv biases
    assert {"bottleneck.bias", "share_classifier.bias"} <= set(state)
    modules = convert_official(state)
    for key, value in state.items():
        torch.testing.assert_close(modules["model"][key], value)


def test_import_then_evaluate(official: tuple[Path, Path, dict[str, torch.Tensor]], tmp_path: Path) -> None:
    root, path, _ = official
    out = tmp_path / "imported.pt"
    result = invoke("ivreid-import", str(path), "--output", str(out), "--dataset", "regdb", "--root", str(root),
                    *SMALL)
    assert result.exit_code == 0, result.output
    imported = json.loads(result.output[result.output.index("{"):])
    assert set(imported) == {"visible-to-thermal", "thermal-to-visible"}
    again = invoke("eval", "ivreid", "--checkpoint", str(out), "--dataset", "regdb", "--root", str(root), *SMALL)
    assert again.exit_code == 0, again.output
    assert json.loads(again.output[again.output.index("{"):]) == imported


def test_other_layouts_are_refused(official: tuple[Path, Path, dict[str, torch.Tensor]], tmp_path: Path) -> None:
    _, _, state = official
    renamed = {k.replace("share_classifier", "classifier") if "bottleneck" not in k else k: v for k, v in state.items()}
    renamed["share_classifier.weight"] = state["share_classifier.weight"]
    with pytest.raises(WeightsError, match=r"missing keys: share_classifier\.bias.*unexpected keys: classifier\.bias"):
        convert_official(renamed)
    plain = {k: v for k, v in state.items() if not k.endswith("conv1.bias")}  # a bias-free (torchvision) ResNet
    with pytest.raises(WeightsError, match=r"missing keys: base\.conv1\.bias"):
        convert_official(plain)
    bad = tmp_path / "torchvision.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, bad)
    result = invoke("ivreid-import", str(bad), "--output", str(tmp_path / "x.pt"))
    assert result.exit_code != 0 and "share_classifier.weight" in result.output
    assert result.output.startswith("Error:") and not (tmp_path / "x.pt").exists()
    pickled = tmp_path / "pickled.pth"
    torch.save(torch.nn.Linear(2, 2), pickled)  # the seed's torch.save(model): never unpickled here
    result = invoke("ivreid-import", str(pickled), "--output", str(tmp_path / "y.pt"))
    assert result.exit_code != 0 and "state_dict()" in result.output and "weights_only=False" in result.output


def test_convert_checkpoint_hook(official: tuple[Path, Path, dict[str, torch.Tensor]]) -> None:
    """``Method.convert_checkpoint`` (``reid eval ivreid --from official``) with the paper section."""
    from reid_plugin_ivreid.config import IVReIDConfig
    from reid_plugin_ivreid.method import IVReID

    _, _, state = official
    method = IVReID.__new__(IVReID)
    method.cfg = IVReIDConfig(stem_relu=False, conv_bias=True)
    assert "official" in IVReID.checkpoint_formats
    converted = method.convert_checkpoint("official", {"state_dict": state})
    torch.testing.assert_close(converted["model"]["bottleneck.weight"], state["bottleneck.weight"])
    method.cfg = IVReIDConfig()  # the clean default has no conv biases: the official weights do not fit
    with pytest.raises(ValueError, match="unexpected keys: base.conv1.bias"):
        method.convert_checkpoint("official", state)


def test_reid_eval_from_official_equals_the_import(
    official: tuple[Path, Path, dict[str, torch.Tensor]], tmp_path: Path
) -> None:
    """``reid eval ivreid --from official`` (the core's foreign-checkpoint path) converts the same file
    to the same numbers as ``reid ivreid-import``."""
    root, path, _ = official
    out = tmp_path / "imported.pt"
    imported = invoke("ivreid-import", str(path), "--output", str(out), "--dataset", "regdb", "--root", str(root),
                      *SMALL)
    assert imported.exit_code == 0, imported.output
    direct = invoke("eval", "ivreid", "--checkpoint", str(path), "--from", "official", "--dataset", "regdb",
                    "--root", str(root), *SMALL)
    assert direct.exit_code == 0, direct.output
    assert json.loads(direct.output[direct.output.index("{"):]) == json.loads(
        imported.output[imported.output.index("{"):]
    )
