"""ICSR's test-time model (backbone, GeM, BN neck, L2 norm) exports to ONNX and TorchScript."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reid_plugin_icsr.method import ICSRMethod

from reid_core.datasets.standin import LabelOnlyDataset
from reid_core.engine.context import RunContext
from reid_core.engine.distributed import DistInfo
from reid_core.inference import export_module
from reid_core.resolve import resolve_run_config

SETS = ["data.height=32", "data.width=16", "icsr.intra_arch=resnet18", "icsr.inter_arch=resnet18", "icsr.backbone_width=8", "icsr.pretrained=none"]


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_icsr_exports_its_network(tmp_path: Path, fmt: str) -> None:
    torch.manual_seed(0)
    config = resolve_run_config(ICSRMethod, profile="quick", sets=SETS, device="cpu")
    labels = {"pid": [0, 0, 1, 1], "camid": [0, 1, 0, 1], "clothes_id": [-1] * 4, "modality": [-1] * 4}
    method = ICSRMethod(config, RunContext(config, LabelOnlyDataset(labels), DistInfo(), tmp_path))
    method.setup_stage(method.stages()[-1])  # the inter-camera stage: the model that is evaluated
    report = export_module(method.export_module(), tmp_path / f"icsr.{fmt}", fmt, height=32, width=16)
    assert report.max_abs_diff <= 1e-4 and report.feature_dim == 8 * 8
