"""AIM's test-time model (the ID branch, flip-averaged, L2-normalised) exports to ONNX and TorchScript."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reid_plugin_aim.method import AIM

from reid_core.datasets.standin import LabelOnlyDataset
from reid_core.engine.context import RunContext
from reid_core.engine.distributed import DistInfo
from reid_core.inference import export_module
from reid_core.resolve import resolve_run_config

SETS = ["data.height=32", "data.width=16", "aim.width=8", "aim.part_dim=8"]


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_aim_exports_its_id_branch(tmp_path: Path, fmt: str) -> None:
    torch.manual_seed(0)
    config = resolve_run_config(AIM, profile="quick", sets=SETS, device="cpu")
    labels = {"pid": [0, 0, 1, 1], "camid": [0, 1, 0, 1], "clothes_id": [0, 1, 2, 3], "modality": [-1] * 4}
    method = AIM(config, RunContext(config, LabelOnlyDataset(labels), DistInfo(), tmp_path))
    method.setup_stage(method.stages()[0])
    module = method.export_module()
    assert set(module.parts) >= {"model", "model2"}  # held, but only the ID branch is traced
    report = export_module(module, tmp_path / f"aim.{fmt}", fmt, height=32, width=16)
    assert report.max_abs_diff <= 1e-4 and report.feature_dim == 2 * 8 * 8
    images = torch.randn(2, 3, 32, 16)
    method.train(False)
    torch.testing.assert_close(module(images), method.extract_features({"img": images}))
