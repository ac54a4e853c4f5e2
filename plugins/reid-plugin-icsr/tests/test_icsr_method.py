"""The icsr method's flow with a stand-in engine context: stages, pseudo labels, memory, partitions, state."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from reid_plugin_icsr import method as method_module
from reid_plugin_icsr.config import ICSRConfig
from reid_plugin_icsr.method import ICSRMethod
from reid_plugin_icsr.partition import PartitionError, read_partitions, write_partitions

from reid_core import config as cfg
from reid_core.data.sample import Sample


class _Dataset:
    def __init__(self, train: list[Sample]) -> None:
        self.train = train


class FakeContext:
    """Just enough of the engine's RunContext: images are fixed random tensors per sample."""

    def __init__(self, config: Any, samples: list[Sample], output_dir: Path) -> None:
        self.config = config
        self.dataset = _Dataset(samples)
        self.device = torch.device("cpu")
        self.rank, self.world_size, self.is_main = 0, 1, True
        self.output_dir = output_dir
        gen = torch.Generator().manual_seed(0)
        protos = torch.randn(1 + max(s.pid for s in samples), 3, 32, 16, generator=gen)
        self.images = {s.key: protos[s.pid] + 0.3 * torch.randn(3, 32, 16, generator=gen) for s in samples}
        self.method: Any = None
        self.lines: list[str] = []

    def prepare(self, module: torch.nn.Module, **_: Any) -> torch.nn.Module:
        return module

    def extract_features(self, samples: list[Sample], **_: Any) -> torch.Tensor:
        self.method.train(False)
        with torch.no_grad():
            out = self.method.extract_features({"img": torch.stack([self.images[s.key] for s in samples])})
        self.method.train(True)
        return out

    def train_loader(self, samples: list[Sample], *, sampler: str, labels: list[int], **_: Any) -> list[dict]:
        assert sampler == "camera"
        keep = [i for i, v in enumerate(labels) if v >= 0][:8]
        return [{"img": torch.stack([self.images[samples[i].key] for i in keep]),
                 "pid": torch.tensor([labels[i] for i in keep]), "index": torch.tensor(keep)}]

    def log(self, message: str) -> None:
        self.lines.append(message)


def _samples(ids: int = 6, cams: int = 2, per_cam: int = 3) -> list[Sample]:
    return [Sample(f"/data/x/{p:04d}_c{c}_{k}.jpg", p, c, relpath=f"train/{p:04d}_c{c}_{k}.jpg")
            for p in range(ids) for c in range(cams) for k in range(per_cam)]


def _cosine_distance(features: torch.Tensor, k1: int, k2: int) -> np.ndarray:
    f = F.normalize(features, dim=1)
    return (1 - f @ f.t()).clamp(0, 2).numpy().astype(np.float32) / 2


def _make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **icsr: Any) -> tuple[ICSRMethod, FakeContext]:
    monkeypatch.setattr(method_module, "jaccard", _cosine_distance)
    run_cls = cfg.run_config_class("icsr", ICSRConfig)
    base = {"intra_arch": "resnet18", "inter_arch": "resnet18", "pretrained": "none", "backbone_width": 8,
            "intra_epochs": 2, "intra_iters": 1, "inter_epochs": 1, "inter_iters": 1, "intra_ratio": 3, "inter_ratio": 6, "infomap_k": 6,
            "infomap_min_size": 2, "infomap_min_sim": 0.0}
    config = cfg.resolve(run_cls, {"icsr": {**base, **icsr}})
    ctx = FakeContext(config, _samples(), tmp_path)
    method = ICSRMethod(config, ctx)
    ctx.method = method
    return method, ctx


def _run_stage(method: ICSRMethod, stage: Any) -> None:
    method.setup_stage(stage)
    for epoch in range(stage.epochs):
        method.on_epoch_start(epoch, stage)
        for batch in method.train_loaders(stage)["train"]:
            losses = method.training_step({"train": batch}, None)
            sum(losses.values()).backward()
            for opt in method.optimizers().values():
                opt.step()
                opt.zero_grad()
        method.on_epoch_end(epoch, stage)
    method.on_stage_end(stage)


def test_stages_one_per_camera_then_inter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    method, _ = _make(tmp_path, monkeypatch)
    assert [s.name for s in method.stages()] == ["intra-cam0", "intra-cam1", "inter"]
    assert [s.epochs for s in method.stages()] == [2, 2, 1]
    method, _ = _make(tmp_path, monkeypatch, stage="inter", local_labels="x.json")
    assert [s.name for s in method.stages()] == ["inter"]


def test_both_stages_write_partitions_and_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    method, ctx = _make(tmp_path, monkeypatch)
    memories = []
    for stage in method.stages():
        _run_stage(method, stage)
        memories.append(method.memory)
    parts = read_partitions(tmp_path / "local_labels.json")
    assert sorted(parts) == [0, 1]
    assert all(len(parts[c]) == 18 for c in parts)
    assert all(key.startswith("train/") for key in parts[0])  # dataset-relative keys
    labels = method.labels
    k = int(labels.max()) + 1
    assert sorted(set(labels[labels >= 0].tolist())) == list(range(k))
    assert method.memory.features.shape[0] == k
    assert torch.allclose(method.memory.features.norm(dim=1), torch.ones(k), atol=1e-5)
    assert any("silhouette" in line for line in ctx.lines)
    assert any("removed" in line for line in ctx.lines)


def test_best_silhouette_partition_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    method, _ = _make(tmp_path, monkeypatch, intra_epochs=3)
    scores = iter([0.1, 0.5, -0.2])
    seen: list[np.ndarray] = []

    def fake_silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
        seen.append(labels.copy())
        return next(scores)

    monkeypatch.setattr(method_module, "silhouette", fake_silhouette)
    counter = iter(range(100))
    real = method_module.agglomerative
    monkeypatch.setattr(method_module, "agglomerative",
                        lambda d, k: np.roll(real(d, k), next(counter)))  # a different labelling per epoch
    stage = method.stages()[0]
    _run_stage(method, stage)
    assert method.best_silhouette == 0.5
    saved = read_partitions(tmp_path / "local_labels.json")[0]
    keys = [s.key for s in method.stage_samples]
    assert [saved[k] for k in keys] == seen[1].tolist()


def test_negative_silhouette_still_writes_a_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    method, _ = _make(tmp_path, monkeypatch, intra_epochs=1)
    monkeypatch.setattr(method_module, "silhouette", lambda d, labels: -0.7)
    _run_stage(method, method.stages()[0])
    assert method.best_silhouette == -0.7
    assert 0 in read_partitions(tmp_path / "local_labels.json")


def test_state_round_trip_restores_partitions_and_best(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    method, _ = _make(tmp_path, monkeypatch)
    stages = method.stages()
    _run_stage(method, stages[0])
    method.setup_stage(stages[1])
    method.on_epoch_start(0, stages[1])
    state = method.state_dict()
    path = tmp_path / "state.pt"
    torch.save(state, path)
    loaded = torch.load(path, weights_only=True)
    other, _ = _make(tmp_path / "b", monkeypatch)
    other.setup_stage(stages[1])
    other.load_state_dict(loaded)
    assert other.partitions == method.partitions
    assert other.best_silhouette == method.best_silhouette
    assert np.array_equal(other.best_labels, method.best_labels)
    assert torch.equal(other.memory.features, method.memory.features)
    assert math.isfinite(other.best_silhouette)


def test_inter_alone_needs_and_validates_the_partition_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    method, _ = _make(tmp_path, monkeypatch, stage="inter")
    with pytest.raises(cfg.ConfigError, match=r"icsr\.local_labels"):
        method.setup_stage(method.stages()[0])
    samples = _samples()
    parts: dict[int, dict[str, int]] = {0: {}, 1: {}}
    for i, s in enumerate(samples):
        parts[s.camid][s.key] = i % 4
    del parts[1][samples[4].key]
    path = tmp_path / "parts.json"
    write_partitions(path, parts)
    method, _ = _make(tmp_path, monkeypatch, stage="inter", local_labels=str(path))
    method.setup_stage(method.stages()[0])
    with pytest.raises(PartitionError, match=samples[4].key):
        method.on_epoch_start(0, method.stages()[0])
    parts[1][samples[4].key] = 0
    write_partitions(path, parts)
    method, _ = _make(tmp_path, monkeypatch, stage="inter", local_labels=str(path))
    _run_stage(method, method.stages()[0])
    assert method.memory is not None


def test_refine_false_removes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    method, ctx = _make(tmp_path, monkeypatch, refine=False)
    for stage in method.stages():
        _run_stage(method, stage)
    assert np.all(method.labels >= 0)
    assert not any("removed" in line for line in ctx.lines)


def test_inter_alone_without_refinement_needs_no_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    method, _ = _make(tmp_path, monkeypatch, stage="inter", refine=False)
    _run_stage(method, method.stages()[0])
    assert method.local is None and np.all(method.labels >= 0)


def test_each_stage_builds_its_own_backbone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    method, _ = _make(tmp_path, monkeypatch, intra_arch="resnet18", inter_arch="resnet34")
    blocks = {}
    for stage in (method.stages()[0], method.stages()[-1]):
        method.setup_stage(stage)
        blocks[stage.name] = len(method.model.backbone.layer3)
    assert blocks == {"intra-cam0": 2, "inter": 6}  # resnet18 has 2 blocks in layer3, resnet34 6


def test_paper_profile_pairs_resnet50_then_ibn() -> None:
    from reid_plugin_icsr.config import PROFILES

    paper = PROFILES["paper"]["icsr"]
    assert (paper["intra_arch"], paper["inter_arch"]) == ("resnet50", "resnet50-ibn-a")


def test_global_cluster_count_per_data_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reid_plugin_icsr.config import default_n_clusters

    assert default_n_clusters("msmt17") == 1200 and default_n_clusters("market1501") == 0
    method, _ = _make(tmp_path, monkeypatch)
    assert method.global_clusters() == 0  # synthetic: from inter_ratio
    method.config = cfg.resolve(type(method.config), {"data": {"dataset": "msmt17"}})
    assert method.global_clusters() == 1200
    method.config = cfg.resolve(type(method.config), {"data": {"dataset": "msmt17"}, "icsr": {"n_clusters": 900}})
    method.cfg = method.config.icsr
    assert method.global_clusters() == 900


def test_missing_infomap_is_an_error_unless_the_fallback_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "infomap" else real(name, *a))
    with pytest.raises(cfg.ConfigError, match=r"pip install 'infomap>=2'.*infomap_fallback=true"):
        _make(tmp_path, monkeypatch)
    _make(tmp_path, monkeypatch, infomap_fallback=True)  # asked for: no error
    _make(tmp_path, monkeypatch, refine=False)  # no refinement: infomap is not needed
    _make(tmp_path, monkeypatch, stage="intra")
