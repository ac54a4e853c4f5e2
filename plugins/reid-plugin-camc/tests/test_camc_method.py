"""The CAMC method: 256x128 only, the recipe (loss, schedule, sampler, augmentation), the pose
sources and the frozen HRNet held by the method (spec section 7, items 9-12 and 15)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from reid_plugin_camc.config import CAMCConfig
from reid_plugin_camc.hrnet import PoseHRNet
from reid_plugin_camc.method import CAMC, build_camc_train_transform
from torchvision import transforms as T

from reid_core.cli import build_cli
from reid_core.config import ConfigError
from reid_core.data import RandomErasing
from reid_core.data.samplers import build_sampler
from reid_core.engine.context import RunContext
from reid_core.engine.distributed import DistInfo
from reid_core.losses import CrossEntropyLabelSmooth
from reid_core.methods import FrozenModule
from reid_core.plugins import get_plugin_manager, get_registry
from reid_core.resolve import resolve_run_config

SMALL = ["camc.backbone=resnet18", "camc.width=8", "camc.pretrained=none"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Any:
    cache = tmp_path_factory.mktemp("synth-cache")
    return get_registry("datasets").create(
        "synthetic-cc", None, ids="3", test_ids="2", images="1", cameras="2", outfits="2", cache_dir=str(cache)
    )


def _method(config: Any, dataset: Any, tmp_path: Path) -> CAMC:
    method = CAMC(config, RunContext(config, dataset, DistInfo(), tmp_path))
    method.setup_stage(method.stages()[0])
    return method


def test_defaults_are_the_official_recipe() -> None:
    cfg = CAMCConfig()
    assert (cfg.lr, cfg.weight_decay, cfg.epochs, cfg.milestones, cfg.gamma) == (3e-4, 5e-4, 150, (40, 80), 0.1)
    assert (cfg.warmup_epochs, cfg.warmup_factor, cfg.label_smoothing, cfg.pose_source) == (10, 0.1, 0.1, "hrnet")
    paper = resolve_run_config(CAMC, dataset="celebreid", root="/nowhere")
    assert (paper.data.height, paper.data.width, paper.data.batch_size, paper.data.num_instances) == (256, 128, 64, 4)
    quick = resolve_run_config(CAMC)
    assert quick.data.dataset == "synthetic-cc" and quick.camc.pose_source == "keypoints"
    assert (quick.data.height, quick.data.width) == (256, 128)


def test_another_input_size_is_a_config_error(dataset: Any, tmp_path: Path) -> None:
    config = resolve_run_config(CAMC, sets=[*SMALL, "data.height=384", "data.width=192"])
    with pytest.raises(ConfigError, match=r"384x192, but CAMC runs at 256x128 only: its 64x32 pose heatmaps"):
        CAMC(config, RunContext(config, dataset, DistInfo(), tmp_path))


def test_10_label_smoothed_cross_entropy() -> None:
    loss = CrossEntropyLabelSmooth(epsilon=0.1)
    targets = torch.tensor([0, 3])
    assert loss(torch.zeros(2, 7), targets).item() == pytest.approx(math.log(7))
    logits = torch.randn(2, 7)
    torch.testing.assert_close(CrossEntropyLabelSmooth(0.0)(logits, targets), F.cross_entropy(logits, targets))
    q = torch.full((2, 7), 0.1 / 7)
    q[torch.arange(2), targets] += 0.9
    expected = -(q * logits.log_softmax(1)).sum(1).mean()
    torch.testing.assert_close(loss(logits, targets), expected)


def test_11_schedule_adam_on_every_parameter(dataset: Any, tmp_path: Path) -> None:
    config = resolve_run_config(CAMC, profile="paper", sets=[*SMALL, "camc.pose_source=keypoints"])
    method = _method(config, dataset, tmp_path)
    (optimizer,) = method.optimizers().values()
    assert isinstance(optimizer, torch.optim.Adam) and len(optimizer.param_groups) == 1
    group = optimizer.param_groups[0]
    assert group["weight_decay"] == 5e-4
    trainable = [p for p in method.model.parameters() if p.requires_grad]
    assert len(group["params"]) == len(trainable)
    (scheduler,) = method.schedulers().values()
    lrs = []
    for _ in range(150):
        lrs.append(group["lr"])
        optimizer.step()
        scheduler.step()
    for epoch, lr in {0: 3e-5, 1: 5.7e-5, 5: 1.65e-4, 9: 2.73e-4, 10: 3e-4, 39: 3e-4, 40: 3e-5, 79: 3e-5,
                      80: 3e-6, 149: 3e-6}.items():
        assert lrs[epoch] == pytest.approx(lr, rel=1e-9), epoch


def test_12_identity_sampler_16_by_4() -> None:
    pids = [i // 5 for i in range(30 * 5)] + [30, 31]  # 30 ids with 5 images, 2 ids with 1 (sampled with replacement)
    sampler = build_sampler("identity", pids=pids, batch_size=64, num_instances=4, seed=666)
    order = list(sampler)
    assert len(order) % 64 == 0 and order
    for start in range(0, len(order), 64):
        batch = [pids[i] for i in order[start : start + 64]]
        counts = {p: batch.count(p) for p in set(batch)}
        assert len(counts) == 16 and set(counts.values()) == {4}


def test_train_transform_is_the_official_augmentation() -> None:
    steps = build_camc_train_transform(CAMCConfig()).transforms
    kinds = [type(s) for s in steps]
    assert kinds == [T.ColorJitter, T.Resize, T.RandomHorizontalFlip, T.Pad, T.RandomCrop, T.ToTensor, T.Normalize,
                     RandomErasing]
    jitter, erasing = steps[0], steps[-1]
    assert jitter.brightness == jitter.contrast == jitter.saturation == (0.9, 1.1) and jitter.hue is None
    assert erasing.fill == (0.0, 0.0, 0.0) and erasing.p == 0.5 and steps[3].padding == 10 and steps[3].fill == 0


def test_keypoint_source_renders_heatmaps_from_the_batch(dataset: Any, tmp_path: Path) -> None:
    config = resolve_run_config(CAMC, sets=[*SMALL, "camc.pose_source=keypoints"])
    method = _method(config, dataset, tmp_path)
    assert method.pose is None and method.frozen_modules() == {}
    keypoints = torch.zeros(2, 17, 3)
    keypoints[0, 9] = torch.tensor([66.0, 130.0, 2.0])  # left wrist: the centre of heatmap cell (row 32, col 16)
    heat = method.heatmaps({"img": torch.zeros(2, 3, 256, 128), "keypoints": keypoints})
    assert heat.shape == (2, 13, 64, 32) and heat[1].abs().sum() == 0
    assert heat[0, 9 - 4].argmax().item() == 32 * 32 + 16 and heat[0, 9 - 4].max().item() == pytest.approx(1.0)


def test_9_hrnet_source_is_a_frozen_auxiliary_network(dataset: Any, tmp_path: Path) -> None:
    torch.manual_seed(0)
    torch.save({"model": PoseHRNet(width=4).state_dict()}, tmp_path / "pose.pth")
    sets = [*SMALL, "camc.pose_source=hrnet", "camc.pose_width=4", f"camc.pose_weights={tmp_path / 'pose.pth'}"]
    method = _method(resolve_run_config(CAMC, sets=sets), dataset, tmp_path)
    assert isinstance(method.pose, FrozenModule) and set(method.modules()) == {"model"}
    assert set(method.frozen_modules()) == {"pose"}
    method.train(True)
    assert method.model.training and not any(m.training for m in method.pose.modules())
    batch = {"img": torch.randn(4, 3, 256, 128), "pid": torch.tensor([0, 0, 1, 1])}
    losses = method.training_step({"train": batch}, step=None)  # type: ignore[arg-type]
    losses["id"].backward()
    assert all(p.grad is None and not p.requires_grad for p in method.pose.parameters())
    assert method.model.classifier.weight.grad is not None
    assert not any(k.startswith("pose") for k in method.model.state_dict())


def test_15_missing_pose_weights_fail_fast_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REID_WEIGHTS_DIR", str(tmp_path))
    out = tmp_path / "run"
    args = ["run", "camc", "--dataset", "synthetic-cc", "--profile", "paper", "--output", str(out), "--device", "cpu",
            "--option", "ids=3", "--option", "test_ids=2", "--option", "images=1", "--option", "cameras=2",
            "--option", f"cache_dir={tmp_path / 'cache'}", "--set", "data.batch_size=8",
            *[x for s in SMALL for x in ("--set", s)]]
    result = CliRunner().invoke(build_cli(get_plugin_manager()), args)
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "pose_hrnet_w48_384x288.pth" in result.output
    assert "Traceback" not in result.output and not (out / "checkpoints").exists()


def test_keypoint_source_on_a_data_set_without_keypoints_is_refused(tmp_path: Path) -> None:
    from reid_core.datasets.fixtures import write_layout

    write_layout("celebreid", tmp_path, ids=4, seed=0)
    dataset = get_registry("datasets").create("celebreid", str(tmp_path))
    config = resolve_run_config(CAMC, dataset="celebreid", root=str(tmp_path), sets=["camc.pose_source=keypoints"])
    with pytest.raises(ConfigError, match="needs keypoints in the data set, but 'celebreid' has none"):
        CAMC.check_data(config, dataset)


def test_13_celebreid_parsing_for_camc(tmp_path: Path) -> None:
    """``<pid>_<n>_<...>.jpg``; contiguous train labels; raw test pids; nothing removed by cameras."""
    from PIL import Image

    base = tmp_path / "Celeb-reID"
    names = {"train": ["12_3_0.jpg", "12_4_1.jpg", "40_1_0.jpg"], "query": ["7_1_0.jpg", "9_1_0.jpg"],
             "gallery": ["7_2_0.jpg", "7_3_5.jpg", "9_2_0.jpg"]}
    for split, files in names.items():
        (base / split).mkdir(parents=True)
        for name in files:
            Image.new("RGB", (8, 16)).save(base / split / name)
    ds = get_registry("datasets").create("celebreid", str(tmp_path))
    assert sorted(s.pid for s in ds.train) == [0, 0, 1]
    assert sorted(s.pid for s in ds.query) == [7, 9] and sorted(s.pid for s in ds.gallery) == [7, 7, 9]
    assert {s.camid for s in ds.query}.isdisjoint({s.camid for s in ds.gallery})  # no same-camera removal
    assert ds.evaluations[0].protocol == "celeb"


def test_export_holds_the_frozen_hrnet_and_refuses_the_keypoint_source(dataset: Any, tmp_path: Path) -> None:
    from reid_core.methods import ExportError

    torch.manual_seed(0)
    torch.save(PoseHRNet(width=4).state_dict(), tmp_path / "pose.pth")
    sets = [*SMALL, "camc.pose_source=hrnet", "camc.pose_width=4", f"camc.pose_weights={tmp_path / 'pose.pth'}"]
    method = _method(resolve_run_config(CAMC, sets=sets), dataset, tmp_path)
    method.train(False)
    exported = method.export_module().eval()
    assert any(k.startswith("parts.pose.") for k in exported.state_dict())
    images = torch.randn(2, 3, 256, 128)
    with torch.no_grad():
        torch.testing.assert_close(exported(images), method.extract_features({"img": images}))
    keypoint_method = _method(resolve_run_config(CAMC, sets=[*SMALL, "camc.pose_source=keypoints"]), dataset, tmp_path)
    with pytest.raises(ExportError, match="pose_source = 'keypoints' cannot be exported"):
        keypoint_method.export_module()
