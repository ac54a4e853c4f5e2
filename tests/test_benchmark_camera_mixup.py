"""The ablation script (benchmarks/ablations/camera_mixup.py) runs every arm at a tiny budget and writes
the raw metrics and the markdown table with its provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from ablation_support import load_script

pytestmark = pytest.mark.slow


def test_ablation_script_at_a_tiny_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.set_num_threads(1)
    module = load_script("camera_mixup")
    sets = ["data.height=32", "data.width=16", "data.batch_size=8", "data.eval_batch_size=64",
            "camera_mixup.width=8", "camera_mixup.intra_after=0", "camera_mixup.inter_after=1",
            "train.max_iters=3"]
    argv = ["--ids", "3", "--epochs", "2", "--seeds", "1", "--out", str(tmp_path / "out"),
            "--cache", str(tmp_path / "cache"), *[f"--set={s}" for s in sets]]
    assert module.main(argv) == 0
    raw = json.loads((tmp_path / "out" / "camera_mixup.json").read_text())
    assert list(raw["results"]) == ["source-only", "full", "no-mixup", "no-camera-terms"]
    assert all(0 <= r["mAP"] <= 100 and r["epochs"] == 2 for rows in raw["results"].values() for r in rows)
    assert "mAP_trapezoid" in raw["results"]["full"][0]
    header = raw["header"]
    assert header["seeds"] == [1] and header["generator_version"] >= 3 and header["commit"]
    page = (tmp_path / "out" / "camera_mixup.md").read_text()
    assert page.count("\n| ") == 6 and "| no-camera-terms |" in page and "generator version" in page
    # the arms differ: source-only trains no memory, so its run differs from the full method's
    assert raw["results"]["source-only"][0] != raw["results"]["full"][0]
