"""End to end with the real engine on a tiny Market-1501 tree: both stages, resume, stage 2 alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from reid_plugin_icsr.config import ICSRConfig
from reid_plugin_icsr.method import ICSRMethod
from reid_plugin_icsr.partition import PartitionError, read_partitions, write_partitions

from reid_core import config as cfg
from reid_core import engine
from reid_core.datasets.fixtures import write_layout
from reid_core.testing import assert_plugin_contract, run_method_smoke

pytestmark = pytest.mark.slow

#: A tiny ICSR: ResNet-18 of width 8, 2 epochs per stage, small neighbourhoods.
SMALL = {"intra_arch": "resnet18", "inter_arch": "resnet18", "pretrained": "none", "backbone_width": 8, "intra_epochs": 2, "intra_iters": 1,
         "inter_epochs": 2, "inter_iters": 2, "k1": 4, "k2": 2, "intra_ratio": 2, "inter_ratio": 2,
         "infomap_k": 4, "infomap_min_sim": 0.0, "infomap_min_size": 1}


@pytest.fixture(scope="module")
def market_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_layout("market1501", root, ids=10, seed=3)
    return root


def _config(root: Path, **icsr: Any) -> Any:
    torch.set_num_threads(1)
    run_cls = cfg.run_config_class("icsr", ICSRConfig)
    layers = {
        "data": {"dataset": "market1501", "root": str(root), "height": 32, "width": 16, "batch_size": 4,
                 "num_instances": 2, "num_workers": 0, "eval_batch_size": 16},
        "train": {"device": "cpu", "seed": 1, "log_every": 50},
        "icsr": {**SMALL, **icsr},
    }
    return cfg.resolve(run_cls, layers)


def _cameras(root: Path, min_images: int = 1) -> list[int]:
    from collections import Counter

    from reid_core.plugins import get_registry

    counts = Counter(s.camid for s in get_registry("datasets").create("market1501", str(root)).train)
    return sorted(cam for cam, n in counts.items() if n >= min_images)


def test_both_stages_end_to_end(market_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    metrics = engine.train_run(ICSRMethod, _config(market_root), output_dir=out)
    assert "rank1" in json.dumps(metrics) and "mAP" in json.dumps(metrics)
    assert (out / "metrics.json").exists()
    parts = read_partitions(out / "local_labels.json")
    assert sorted(parts) == _cameras(market_root)
    keys = [k for table in parts.values() for k in table]
    assert all(not Path(k).is_absolute() and k.startswith("bounding_box_train/") for k in keys), keys[:3]
    log = (out / "log.txt").read_text()
    assert "intra-cam" in log and "removed" in log
    # reid eval: the checkpoint alone (its folder holds no partition file) is enough
    results = engine.evaluate_checkpoint(ICSRMethod, _config(market_root), out / "checkpoints" / "last.pt")
    assert results["market"]["mAP"] == pytest.approx(metrics["market"]["last"]["mAP"], abs=1e-4)
    # reid_core.load (modules rebuilt from the checkpoint's train labels) -> the same features, exportable
    _after_training(out, market_root, metrics)


def test_kit_smoke_interrupts_resumes_and_reevaluates_from_the_checkpoint_alone(tmp_path: Path) -> None:
    """The kit's smoke on its tiny Market-like set: stopped after the first intra-camera epoch,
    resumed, and ``last.pt`` re-evaluated (``reid eval``: the checkpoint alone is enough)."""
    torch.set_num_threads(1)
    sets = [f"icsr.{k}={v}" for k, v in SMALL.items()]
    result = run_method_smoke("icsr", "market", sets=sets, output_dir=tmp_path / "run", tolerance=1e-4)
    assert result.resumed and result.history[0]["epoch"] == 1 and len(result.history) == result.history[-1]["epoch"]
    assert set(result.metrics) == {"market"}


def _after_training(out: Path, root: Path, metrics: dict[str, Any]) -> None:
    import numpy as np
    from PIL import Image

    import reid_core
    from reid_core.evaluation import evaluate_split
    from reid_core.inference import export_module
    from reid_core.inference.export import run_exported
    from reid_core.plugins import get_registry

    model = reid_core.load(out / "checkpoints" / "last.pt")
    assert model.context.dataset.name.endswith("(labels from the checkpoint)")
    data = get_registry("datasets").create("market1501", str(root))
    qf = model.extract_samples(data.query).features
    gf = model.extract_samples(data.gallery).features
    result = evaluate_split("market", qf, gf, data.query, data.gallery)
    assert result["mAP"] == pytest.approx(metrics["market"]["last"]["mAP"], abs=1e-4)
    report = export_module(model.export_module(), out / "icsr.onnx", "onnx", height=32, width=16)
    assert report.max_abs_diff <= 1e-4
    images = torch.stack([model.transform(Image.open(s.path).convert("RGB")) for s in data.query[:3]])
    np.testing.assert_allclose(run_exported(out / "icsr.onnx", "onnx", images), qf[:3].numpy(), atol=1e-4, rtol=0)


class _Interrupt(Exception):
    pass


def test_interrupted_intra_stage_resumes_at_the_right_camera(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    config = _config(market_root, stage="intra")
    cams = _cameras(market_root, min_images=2)  # cameras with an intra stage
    assert len(cams) >= 3
    seen: list[tuple[str, int]] = []
    original = ICSRMethod.on_epoch_start

    def crashing(self: ICSRMethod, epoch: int, stage: Any) -> None:
        seen.append((stage.name, epoch))
        if stage.name == f"intra-cam{cams[2]}" and epoch == 1:
            raise _Interrupt
        original(self, epoch, stage)

    monkeypatch.setattr(ICSRMethod, "on_epoch_start", crashing)
    with pytest.raises(_Interrupt):
        engine.train_run(ICSRMethod, config, output_dir=out)
    done = read_partitions(out / "local_labels.json")
    assert set(cams[:2]) <= set(done) and not set(cams[2:]) & set(done)  # the finished cameras were written

    seen.clear()
    monkeypatch.setattr(ICSRMethod, "on_epoch_start", lambda self, e, s: (seen.append((s.name, e)),
                                                                           original(self, e, s))[-1])
    engine.train_run(ICSRMethod, config, output_dir=out, resume=True)
    assert seen[0] == (f"intra-cam{cams[2]}", 1)  # resumed inside the interrupted camera
    assert all(name != f"intra-cam{cams[0]}" for name, _ in seen)
    final = read_partitions(out / "local_labels.json")
    assert sorted(final) == _cameras(market_root)
    assert {c: final[c] for c in done} == done  # finished cameras untouched


def test_stage_two_alone_from_a_partition_file(market_root: Path, tmp_path: Path) -> None:
    from reid_core.plugins import get_registry

    train = get_registry("datasets").create("market1501", str(market_root)).train
    parts: dict[int, dict[str, int]] = {}
    for i, s in enumerate(train):
        parts.setdefault(s.camid, {})[s.key] = i % 2
    path = tmp_path / "parts.json"
    write_partitions(path, parts)
    out = tmp_path / "inter"
    metrics = engine.train_run(ICSRMethod, _config(market_root, stage="inter", local_labels=str(path)),
                               output_dir=out)
    assert metrics
    assert not (out / "local_labels.json").exists()

    missing = train[3]
    del parts[missing.camid][missing.key]
    write_partitions(path, parts)
    with pytest.raises(PartitionError, match=missing.key.replace(".", r"\.")):
        engine.train_run(ICSRMethod, _config(market_root, stage="inter", local_labels=str(path)),
                         output_dir=tmp_path / "inter2")


def test_plugin_keeps_the_contract() -> None:
    from reid_plugin_icsr import plugin

    assert_plugin_contract(plugin, name="icsr-under-test")
