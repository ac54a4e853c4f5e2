"""End to end through the engine and the CLI: CAMC on a ``reid synth --like celebreid`` tree with
a (tiny, test-written) HRNet checkpoint in the paper profile, and on ``synthetic-cc`` with keypoint
heatmaps in the quick profile; evaluation from the checkpoint reproduces the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from reid_plugin_camc.hrnet import PoseHRNet
from reid_plugin_camc.method import CAMC

from reid_core.cli import build_cli
from reid_core.engine import evaluate_checkpoint, train_run
from reid_core.plugins import get_plugin_manager
from reid_core.resolve import resolve_run_config

pytestmark = pytest.mark.slow

TINY = [
    "camc.backbone=resnet18",
    "camc.width=8",
    "camc.pretrained=none",
    "camc.epochs=1",
    "camc.warmup_epochs=0",
    "camc.milestones=[]",
    "data.batch_size=8",
    "data.num_instances=4",
    "data.eval_batch_size=32",
    "data.num_workers=0",
    "train.max_iters=2",
    "train.log_every=1",
]


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(build_cli(get_plugin_manager()), list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def celeb_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("camc-celeb")
    root = base / "data"
    _cli("synth", "--like", "celebreid", str(root), "--ids", "6")
    torch.manual_seed(0)
    weights = base / "pose_hrnet_w4.pth"
    torch.save({"model": PoseHRNet(width=4).state_dict()}, weights)
    sets = [*TINY, "camc.pose_width=4", f"camc.pose_weights={weights}"]
    out = base / "run"
    args = ["run", "camc", "--dataset", "celebreid", "--root", str(root), "--device", "cpu", "--output", str(out)]
    _cli(*args, *[x for s in sets for x in ("--set", s)])
    return root, sets, out, json.loads((out / "metrics.json").read_text())


def test_celebreid_paper_profile_with_hrnet_trains_and_evaluates(celeb_run: tuple[Path, list[str], Path, Any]) -> None:
    _, _, out, metrics = celeb_run
    assert set(metrics) == {"celeb"}
    last = metrics["celeb"]["last"]
    assert 0.0 <= last["rank1"] <= 100.0 and last["queries"] > 0
    config = (out / "config.toml").read_text()
    assert 'pose_source = "hrnet"' in config and "height = 256" in config and "batch_size = 8" in config
    state = torch.load(out / "checkpoints" / "last.pt", map_location="cpu", weights_only=False)
    assert set(state["modules"]) == {"model"}  # the frozen HRNet is never checkpointed
    assert not any("stage4" in k or "final_layer" in k for k in state["modules"]["model"])
    assert {k for k in state["history"][0] if k.startswith("loss/")} == {"loss/id"}  # the only loss


def test_reid_eval_from_the_checkpoint_reproduces_the_run(celeb_run: tuple[Path, list[str], Path, Any]) -> None:
    root, sets, out, metrics = celeb_run
    args = ["eval", "camc", "--dataset", "celebreid", "--root", str(root), "--device", "cpu", "--json",
            "--checkpoint", str(out / "checkpoints" / "last.pt"), *[x for s in sets for x in ("--set", s)]]
    result = _cli(*args)
    printed = json.loads(result.output[result.output.index("{"):])
    assert printed["celeb"]["rank1"] == pytest.approx(metrics["celeb"]["last"]["rank1"])
    assert printed["celeb"]["mAP"] == pytest.approx(metrics["celeb"]["last"]["mAP"])


def test_synthetic_cc_quick_profile_with_keypoints(tmp_path: Path) -> None:
    torch.manual_seed(0)
    options = {"ids": "4", "test_ids": "3", "images": "1", "cameras": "3", "outfits": "2",
               "cache_dir": str(tmp_path / "cache")}
    config = resolve_run_config(CAMC, options=options, sets=TINY, device="cpu")
    assert config.data.dataset == "synthetic-cc" and config.camc.pose_source == "keypoints"  # the quick profile
    out = tmp_path / "run"
    metrics = train_run(CAMC, config, output_dir=out)
    assert {"cloth-changing", "standard"} <= set(metrics)
    results = evaluate_checkpoint(CAMC, config, out / "checkpoints" / "last.pt")
    for key in ("cloth-changing", "standard"):
        assert results[key]["rank1"] == pytest.approx(metrics[key]["last"]["rank1"])
        assert results[key]["mAP"] == pytest.approx(metrics[key]["last"]["mAP"])
