"""End to end with the real engine on two ``reid synth --like`` trees: DukeMTMC-reID -> Market-1501."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from reid_plugin_camera_mixup.method import CameraMixup

from reid_core import config as cfg
from reid_core import engine
from reid_core.cli import build_cli
from reid_core.plugins import get_plugin_manager

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    runner = CliRunner()
    for fmt, seed in (("dukemtmcreid", "1"), ("market1501", "2")):
        # The second tree goes beside the first: --force allows a non-empty root (no file is overwritten).
        extra = ["--force"] if fmt == "market1501" else []
        result = runner.invoke(build_cli(get_plugin_manager()),
                               ["synth", "--like", fmt, str(root), "--ids", "6", "--seed", seed, *extra])
        assert result.exit_code == 0, result.output
    return root


def _config(root: Path, **section: Any) -> Any:
    torch.set_num_threads(1)
    run_cls = cfg.run_config_class("camera-mixup", CameraMixup.config_class)
    return cfg.resolve(run_cls, {
        "data": {"dataset": "market1501", "source": "dukemtmcreid", "root": str(root), "height": 32, "width": 16,
                 "batch_size": 8, "num_workers": 0, "eval_batch_size": 32},
        "train": {"device": "cpu", "seed": 1, "log_every": 50},
        "camera_mixup": {"backbone": "resnet18", "pretrained": "none", "width": 8, "epochs": 3,
                         "intra_after": 1, "inter_after": 2, **section},
    })


def test_duke_to_market_end_to_end(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    metrics = engine.train_run(CameraMixup, _config(root), output_dir=out)
    assert set(metrics) == {"market", "market-trapezoid"}
    assert 0 <= metrics["market-trapezoid"]["last"]["mAP"] <= 100
    log = (out / "log.txt").read_text()
    assert "epoch 1/3 done: loss/src=" in log and "epoch 2/3 done: loss/mix=" in log
    assert "loss/inter=0 " in log.split("epoch 2/3 done")[1].split("\n")[0]  # inter weight 0 until epoch 3
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=False)
    memory = state["modules"]["memory"]["memory"]
    # every target image was written in epoch 1 (drop_last false there), so every row has unit norm
    assert torch.allclose(memory.norm(dim=1), torch.ones(memory.shape[0]), atol=1e-4)
    results = engine.evaluate_checkpoint(CameraMixup, _config(root), out / "checkpoints" / "last.pt")
    assert results["market"]["mAP"] == pytest.approx(metrics["market"]["last"]["mAP"], abs=1e-4)


def test_cli_needs_a_source_and_accepts_source_root(root: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    cli = build_cli(get_plugin_manager())
    bad = runner.invoke(cli, ["run", "camera-mixup", "--dataset", "market1501", "--root", str(root),
                              "--profile", "quick", "--output", str(tmp_path / "x")])
    assert bad.exit_code == 1 and "Error:" in bad.output and "--source NAME" in bad.output
    sets = ["data.height=32", "data.width=16", "data.batch_size=8", "camera_mixup.width=8",
            "camera_mixup.epochs=2", "camera_mixup.intra_after=0", "camera_mixup.inter_after=0",
            "train.max_iters=2", "train.amp=bf16"]  # AMP through the engine, every loss term on
    out = tmp_path / "cli"
    ok = runner.invoke(cli, ["run", "camera-mixup", "--dataset", "market1501", "--source", "dukemtmcreid",
                             "--root", str(tmp_path / "nowhere"), "--source-root", str(root), "--profile", "quick",
                             "--output", str(out), *[f"--set={s}" for s in sets]])
    assert ok.exit_code == 1 and "market1501" in ok.output  # the target is read from --root
    ok = runner.invoke(cli, ["run", "camera-mixup", "--dataset", "market1501", "--source", "dukemtmcreid",
                             "--root", str(root), "--profile", "quick", "--output", str(out),
                             *[f"--set={s}" for s in sets]])
    assert ok.exit_code == 0, ok.output
    assert "market-trapezoid" in json.loads((out / "metrics.json").read_text())
