"""Pretrained weights from local files: prefixes, reports, REID_WEIGHTS_DIR, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from reid_core.models import WeightsError, WeightsNotFoundError, build_backbone, load_pretrained
from reid_core.models.weights import resolve_weights


def _tiny() -> torch.nn.Module:
    return build_backbone("resnet18", width=4)


def test_load_module_prefixed_state_dict_reports_keys(tmp_path: Path) -> None:
    source = _tiny()
    state = {f"module.{k}": v.clone() + 1.0 for k, v in source.state_dict().items() if not k.startswith("layer4.1.")}
    state["module.fc.weight"] = torch.zeros(10, 32)
    path = tmp_path / "weights.pth.tar"
    torch.save({"state_dict": state, "epoch": 3}, path)

    target = _tiny()
    report = load_pretrained(target, str(path), "resnet18-f37072fd.pth")
    assert report.path == path
    assert report.unexpected == ("fc.weight",)
    assert report.missing and all(k.startswith("layer4.1.") for k in report.missing)
    assert torch.equal(target.conv1.weight, source.conv1.weight + 1.0)
    assert not torch.equal(target.layer4[1].conv1.weight, source.layer4[1].conv1.weight + 1.0)


def test_factory_pretrained_path_and_weights_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _tiny()
    torch.save(source.state_dict(), tmp_path / "tiny.pth")
    monkeypatch.setenv("REID_WEIGHTS_DIR", str(tmp_path))
    by_name = build_backbone("resnet18", width=4, pretrained="tiny.pth")
    assert torch.equal(by_name.conv1.weight, source.conv1.weight)
    assert by_name.pretrained_report.missing == ()
    # "imagenet" looks up the standard file name
    torch.save(source.state_dict(), tmp_path / "resnet18-f37072fd.pth")
    standard = build_backbone("resnet18", width=4, pretrained="imagenet")
    assert torch.equal(standard.layer1[0].conv1.weight, source.layer1[0].conv1.weight)


def test_none_trains_from_scratch() -> None:
    model = build_backbone("resnet18", width=4, pretrained="none")
    assert model.pretrained_report.path is None
    assert resolve_weights("none", "x.pth") is None


def test_missing_file_names_expected_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REID_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(WeightsNotFoundError) as info:
        build_backbone("resnet50-ibn-a", width=4, pretrained="imagenet")
    message = str(info.value)
    assert "resnet50_ibn_a-d9d0bb7b.pth" in message and "REID_WEIGHTS_DIR" in message
    assert "https://github.com/XingangPan/IBN-Net" in message
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(WeightsNotFoundError, match=r"resnet50-0676ba61\.pth.*download\.pytorch\.org"):
        resolve_weights("imagenet", "resnet50-0676ba61.pth")
    with pytest.raises(WeightsNotFoundError, match=r"nowhere\.pth"):
        resolve_weights(str(tmp_path / "nowhere.pth"), "resnet50-0676ba61.pth")


def test_wrong_shapes_and_pickled_objects_are_refused(tmp_path: Path) -> None:
    wide = build_backbone("resnet18", width=8)
    torch.save(wide.state_dict(), tmp_path / "wide.pth")
    with pytest.raises(WeightsError, match="do not fit"):
        load_pretrained(_tiny(), str(tmp_path / "wide.pth"), "resnet18-f37072fd.pth")
    torch.save({"state_dict": {"conv1.weight": torch.zeros(1)}, "cfg": Path("x")}, tmp_path / "pickled.pth")
    with pytest.raises(WeightsError, match="weights_only"):
        load_pretrained(_tiny(), str(tmp_path / "pickled.pth"), "resnet18-f37072fd.pth")


def test_torchvision_checkpoint_loads_with_fc_unexpected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision

    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), tmp_path / "resnet18-f37072fd.pth")
    monkeypatch.setenv("REID_WEIGHTS_DIR", str(tmp_path))
    model = build_backbone("resnet18", pretrained="imagenet", last_stride=1)
    report = model.pretrained_report
    assert sorted(report.unexpected) == ["fc.bias", "fc.weight"] and report.missing == ()
    assert torch.equal(model.layer4[0].conv1.weight, reference.layer4[0].conv1.weight)


def test_ibn_checkpoint_layout(tmp_path: Path) -> None:
    source = build_backbone("resnet50-ibn-a", width=4)
    state = {f"module.{k}": v + 0.5 for k, v in source.state_dict().items()}
    torch.save({"state_dict": state}, tmp_path / "resnet50_ibn_a.pth.tar")
    model = build_backbone("resnet50-ibn-a", width=4, pretrained=str(tmp_path / "resnet50_ibn_a.pth.tar"))
    assert model.pretrained_report.missing == () and model.pretrained_report.unexpected == ()
    assert torch.equal(model.layer2[1].bn1.IN.weight, source.layer2[1].bn1.IN.weight + 0.5)


def test_weights_command_lists_found_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from click.testing import CliRunner

    from reid_core.cli import build_cli
    from reid_core.plugins import get_plugin_manager

    monkeypatch.setenv("REID_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    (tmp_path / "resnet50-0676ba61.pth").write_bytes(b"")
    group = build_cli(get_plugin_manager())
    result = CliRunner().invoke(group, ["weights", "--json"], catch_exceptions=False)
    rows = {r["backbone"]: r for r in json.loads(result.output)}
    assert rows["resnet50"]["found"] == str(tmp_path / "resnet50-0676ba61.pth")
    assert rows["resnet50-ibn-a"]["found"] is None and rows["resnet50-ibn-a"]["file"] == "resnet50_ibn_a-d9d0bb7b.pth"
    text = CliRunner().invoke(group, ["weights"], catch_exceptions=False).output
    assert "MISSING" in text and "resnet101-63fe2227.pth" in text


def test_initial_weights_are_skipped_when_a_checkpoint_follows(tmp_path, monkeypatch):
    """``reid eval`` / ``reid_core.load`` build the model inside ``initial_weights_skipped()``: the
    ImageNet file a trained model was initialised from is not needed to evaluate it."""
    from torch import nn

    from reid_core.models.weights import WeightsNotFoundError, initial_weights_skipped, load_pretrained

    monkeypatch.setenv("REID_WEIGHTS_DIR", str(tmp_path))  # an empty folder: the file is not there
    model = nn.Linear(2, 2)
    with pytest.raises(WeightsNotFoundError):
        load_pretrained(model, "imagenet", "resnet50-0676ba61.pth")
    with initial_weights_skipped():
        report = load_pretrained(model, "imagenet", "resnet50-0676ba61.pth")
    assert report.path is None and report.loaded == 0
    with pytest.raises(WeightsNotFoundError):  # only inside the block
        load_pretrained(model, "imagenet", "resnet50-0676ba61.pth")
