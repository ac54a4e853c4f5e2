"""Backbones: registry names, output shapes, last stride, IBN-a structure, torchvision key layout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from reid_core.models import IBN, build_backbone
from reid_core.plugins import get_registry

NAMES = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet50-ibn-a"]


def test_all_backbones_registered_by_core() -> None:
    reg = get_registry("backbones")
    for name in NAMES:
        assert name in reg
        assert reg.get(name).plugin == "core.models"


@pytest.mark.parametrize(
    ("name", "channels"), [("resnet18", 32), ("resnet34", 32), ("resnet50", 128), ("resnet50-ibn-a", 128)]
)
def test_small_width_shapes_and_last_stride(name: str, channels: int) -> None:
    x = torch.randn(2, 3, 64, 32)
    for last_stride, (h, w) in ((1, (4, 2)), (2, (2, 1))):
        model = build_backbone(name, width=4, last_stride=last_stride).eval()
        assert model.out_channels == channels
        with torch.no_grad():
            assert model(x).shape == (2, channels, h, w)


def test_resnet50_standard_256x128_gives_16x8_map() -> None:
    model = build_backbone("resnet50", pretrained="none", last_stride=1).eval()
    assert model.out_channels == 2048
    assert model.layer4[0].conv2.stride == (1, 1)
    assert model.layer4[0].downsample[0].stride == (1, 1)
    with torch.no_grad():
        assert model(torch.randn(1, 3, 256, 128)).shape == (1, 2048, 16, 8)


def test_basic_block_last_stride_on_first_conv() -> None:
    model = build_backbone("resnet18", width=4, last_stride=1)
    assert model.out_channels == 32  # 512 at width 64
    assert model.layer4[0].conv1.stride == (1, 1)
    assert build_backbone("resnet18", width=4, last_stride=2).layer4[0].conv1.stride == (2, 2)


def test_resnet18_standard_width_keys_match_torchvision() -> None:
    import torchvision

    ours = build_backbone("resnet18").state_dict()
    theirs = torchvision.models.resnet18().state_dict()
    assert set(theirs) - set(ours) == {"fc.weight", "fc.bias"}
    assert set(ours) <= set(theirs)
    assert all(ours[k].shape == theirs[k].shape for k in ours)
    assert build_backbone("resnet18").out_channels == 512


def test_ibn_a_structure() -> None:
    model = build_backbone("resnet50-ibn-a", width=8)
    for layer_name, planes in (("layer1", 8), ("layer2", 16), ("layer3", 32)):
        for block in getattr(model, layer_name):
            assert isinstance(block.bn1, IBN)
            assert block.bn1.half == planes // 2
            assert block.bn1.IN.num_features == planes // 2 and block.bn1.IN.affine
            assert block.bn1.BN.num_features == planes - planes // 2
            assert isinstance(block.bn2, nn.BatchNorm2d)
    for block in model.layer4:
        assert isinstance(block.bn1, nn.BatchNorm2d)
    assert isinstance(model.bn1, nn.BatchNorm2d)
    keys = model.state_dict().keys()
    assert "layer1.0.bn1.IN.weight" in keys and "layer3.5.bn1.BN.running_mean" in keys


def test_ibn_normalises_halves_separately() -> None:
    ibn = IBN(4).train()
    x = torch.randn(3, 4, 5, 5) * 4 + 2
    out = ibn(x)
    # IN half: each (sample, channel) has zero mean; BN half: each channel has zero mean over the batch
    assert torch.allclose(out[:, :2].mean(dim=(2, 3)), torch.zeros(3, 2), atol=1e-5)
    assert torch.allclose(out[:, 2:].mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-5)
    assert not torch.allclose(out[:, 2:].mean(dim=(2, 3)), torch.zeros(3, 2), atol=1e-3)


def test_forward_layers_and_invalid_options() -> None:
    model = build_backbone("resnet18", width=4).eval()
    with torch.no_grad():
        layers = model.forward_layers(torch.randn(1, 3, 64, 32))
    assert [t.shape[1] for t in layers.values()] == [4, 8, 16, 32]
    with pytest.raises(ValueError, match="last_stride"):
        build_backbone("resnet18", last_stride=3)
    with pytest.raises(TypeError, match="unknown option"):
        build_backbone("resnet18", dilation=2)


def test_registering_blocks_does_not_import_torch() -> None:
    """Every ``reid`` command loads the builtin plugins: registering backbones and losses stays light."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import reid_core.data, reid_core.models.plugin as m, reid_core.losses.plugin as l\n"
        "names = []\n"
        "m.reid_register_backbones(register=lambda n, f, description='': names.append(n))\n"
        "l.reid_register_losses(register=lambda n, f, description='': names.append(n))\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print(sorted(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "resnet50-ibn-a" in out and "triplet" in out
