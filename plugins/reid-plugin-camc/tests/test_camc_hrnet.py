"""The HRNet pose network: the official key layout, strict loading with clear errors, the W48 size."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reid_plugin_camc.hrnet import PoseHRNet
from reid_plugin_camc.pose_weights import HRNET_FILE, load_pose_weights

from reid_core.models.weights import WeightsError, WeightsNotFoundError

#: Keys of the official pose_hrnet_w48_384x288.pth (PoseHighResolutionNet of leoxiaobin/
#: deep-high-resolution-net.pytorch), one of each kind of layer.
OFFICIAL_KEYS = (
    "conv1.weight", "bn2.running_var", "layer1.0.downsample.0.weight", "layer1.3.bn3.bias",
    "transition1.0.0.weight", "transition1.1.0.0.weight", "transition2.2.0.1.running_mean",
    "transition3.3.0.0.weight", "stage2.0.branches.1.3.conv2.weight", "stage2.0.fuse_layers.0.1.0.weight",
    "stage2.0.fuse_layers.1.0.0.1.bias", "stage3.3.fuse_layers.2.0.1.0.weight", "stage4.2.branches.3.3.bn2.weight",
    "stage4.2.fuse_layers.0.3.1.weight", "stage4.1.fuse_layers.3.0.2.1.weight", "final_layer.weight", "final_layer.bias",
)


def _tiny(seed: int = 0) -> PoseHRNet:
    torch.manual_seed(seed)
    net = PoseHRNet(width=4)
    for m in net.modules():  # non-trivial BN statistics, so that eval-mode outputs depend on them
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net.eval()


def test_w48_has_the_official_layout_and_size() -> None:
    with torch.device("meta"):
        net = PoseHRNet(48)
    keys = set(net.state_dict())
    assert all(k in keys for k in OFFICIAL_KEYS), sorted(set(OFFICIAL_KEYS) - keys)
    assert "stage4.2.fuse_layers.1.0.0.0.weight" not in keys  # the last module outputs branch 0 only
    assert sum(p.numel() for p in net.parameters()) == 63_595_745  # HRNet-W48: 63.6M
    assert net.final_layer.weight.shape == (17, 48, 1, 1)
    assert net.stage4[0].fuse_layers[3][0][2][0].weight.shape == (384, 48, 3, 3)


def test_heatmaps_at_a_quarter_of_256x128() -> None:
    with torch.no_grad():
        assert _tiny()(torch.randn(2, 3, 256, 128)).shape == (2, 17, 64, 32)


@pytest.mark.parametrize("wrapped", [False, True], ids=["raw", "under-model"])
def test_written_state_dict_loads_strictly_and_gives_the_same_heatmaps(tmp_path: Path, wrapped: bool) -> None:
    source = _tiny(seed=1)
    state = source.state_dict()
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}  # as old checkpoints
    path = tmp_path / "pose.pth"
    torch.save({"model": state} if wrapped else state, path)
    target = _tiny(seed=2)
    assert load_pose_weights(target, str(path)) == path
    x = torch.randn(2, 3, 64, 32)  # fully convolutional: a small input checks every layer
    with torch.no_grad():
        torch.testing.assert_close(target.eval()(x), source(x), rtol=0, atol=0)


def test_file_found_in_weights_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.save(_tiny().state_dict(), tmp_path / "tiny_pose.pth")
    monkeypatch.setenv("REID_WEIGHTS_DIR", str(tmp_path))
    assert load_pose_weights(_tiny(), "tiny_pose.pth") == tmp_path / "tiny_pose.pth"


def test_missing_file_names_it_and_where_it_comes_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REID_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(WeightsNotFoundError) as info:
        load_pose_weights(_tiny(), "")
    message = str(info.value)
    assert HRNET_FILE in message and "deep-high-resolution-net" in message and str(tmp_path) in message
    assert "pose_source=keypoints" in message
    with pytest.raises(WeightsNotFoundError, match="gives none"):
        load_pose_weights(_tiny(), "none")


def test_wrong_keys_are_refused_with_their_names(tmp_path: Path) -> None:
    state = _tiny().state_dict()
    state["backbone.conv1.weight"] = state.pop("conv1.weight")  # an mmpose-style file
    state["keypoint_head.final_layer.weight"] = state.pop("final_layer.weight")
    path = tmp_path / "mmpose.pth"
    torch.save(state, path)
    with pytest.raises(WeightsError) as info:
        load_pose_weights(_tiny(), str(path))
    message = str(info.value)
    assert str(path) in message and "conv1.weight" in message and "backbone.conv1.weight" in message
    assert "missing" in message and "unexpected" in message and HRNET_FILE in message


def test_another_width_is_refused_with_the_shapes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "w8.pth"
    torch.save(PoseHRNet(width=8).state_dict(), path)
    with pytest.raises(WeightsError, match="another shape: .*transition1.0.0.weight"):
        load_pose_weights(_tiny(), str(path))


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.pth"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="junk.pth"):
        load_pose_weights(_tiny(), str(path))
