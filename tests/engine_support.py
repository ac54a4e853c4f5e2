"""Test support for the engine tests: a tiny on-disk data set, a test evaluator and dummy methods.

The dummy methods exercise what the five papers need from the engine: several stages, two
loaders at once, pseudo labels from features extracted before each epoch (with -1 outliers),
method state in checkpoints, and manual optimisation with two optimizers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import attrs
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from reid_core.config import resolve, run_config_class
from reid_core.data.sample import Sample
from reid_core.datasets.base import EvalSpec, ReidDataset
from reid_core.hookspecs import hookimpl
from reid_core.methods.base import Method, Stage, StepContext

HEIGHT, WIDTH = 32, 16


def make_images(root: Path, *, ids: int, cams: int, per_cam: int, seed: int, pid_offset: int = 0) -> list[Sample]:
    """Write small PNGs whose colour depends on the identity (plus noise); return their samples."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    samples = []
    for pid in range(ids):
        base = rng.integers(0, 255, size=3)
        for cam in range(cams):
            for k in range(per_cam):
                pixels = np.clip(base + rng.normal(0, 25, size=(HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)
                path = root / f"{pid + pid_offset:03d}_c{cam}_{k}.png"
                if not path.exists():  # several processes (DDP test) may build the data set at once
                    Image.fromarray(pixels).save(path)
                samples.append(Sample(str(path), pid, cam, clothes_id=pid * 2 + (cam % 2)))
    return samples


def tiny_dataset(root: Path) -> ReidDataset:
    """6 training identities x 2 cameras x 3 images; 4 test identities (query cam 0, gallery cam 1)."""
    train = make_images(root / "train", ids=6, cams=2, per_cam=3, seed=1)
    test = make_images(root / "test", ids=4, cams=2, per_cam=2, seed=2, pid_offset=100)
    test = [attrs.evolve(s, pid=s.pid + 100) for s in test]
    query = [s for s in test if s.camid == 0]
    gallery = [s for s in test if s.camid == 1]
    dataset = ReidDataset(train, query, gallery, evaluations=[EvalSpec("test-eval")], root=str(root))
    dataset.name = "tiny"
    return dataset


class NearestEvaluator:
    """A small stand-in evaluator: rank-1 and a crude AP from nearest neighbours (no camera filtering)."""

    def evaluate(self, qf: Any, gf: Any, query: Any, gallery: Any, *, metric: str = "euclidean",
                 rerank: bool = False) -> dict[str, float]:
        qf, gf = torch.as_tensor(qf), torch.as_tensor(gf)
        dist = torch.cdist(qf, gf)
        order = dist.argsort(dim=1).numpy()
        matches = gallery.pids[order] == query.pids[:, None]
        rank1 = float(matches[:, 0].mean() * 100)
        first = matches.argmax(axis=1)
        ap = float(np.mean(1.0 / (first + 1)) * 100)
        return {"rank1": rank1, "rank5": float(matches[:, :5].any(1).mean() * 100), "rank10": 100.0,
                "rank20": 100.0, "mAP": ap, "mINP": ap, "queries": len(query)}


@attrs.frozen
class DummyConfig:
    """The ``[dummy]`` section."""

    epochs: int = 2
    stages: int = 1
    iters: int = 0
    lr: float = 0.05
    two_loaders: bool = False
    pseudo: bool = False
    nan_at: int = -1  # global step at which the "ce" loss becomes NaN
    dump_weights: bool = False  # write weights-rank<r>.pt at the end of each stage (DDP test)


class TinyNet(nn.Module):
    """conv -> BN -> pool -> dropout -> linear; ``forward`` gives ``(feature, logits)``."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = F.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
        return f, self.fc(self.drop(f))


class Dummy(Method):
    """A tiny method covering the engine's paths (automatic optimisation)."""

    name = "dummy"
    config_class = DummyConfig
    profiles: ClassVar[dict[str, Any]] = {}
    interrupt_at: ClassVar[int | None] = None  # global epoch at whose start the run is "killed"

    def stages(self) -> list[Stage]:
        return [Stage(f"s{i}", self.cfg.epochs, self.cfg.iters or None) for i in range(self.cfg.stages)]

    def setup_stage(self, stage: Stage) -> None:
        if not hasattr(self, "net"):
            self.net_raw = TinyNet(self.ctx.dataset.num_train_pids)
            self.memory = torch.zeros(8)
        self.net = self.add_module("net", self.net_raw)
        opt = self.add_optimizer("net", torch.optim.Adam(self.net.parameters(), lr=self.cfg.lr))
        self.add_scheduler("net", torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
        self.labels: list[int] | None = None

    def on_epoch_start(self, epoch: int, stage: Stage) -> None:
        if Dummy.interrupt_at is not None and self.ctx.epoch == Dummy.interrupt_at:
            raise KeyboardInterrupt("simulated interruption")
        if self.cfg.pseudo:
            feats = self.ctx.extract_features(self.ctx.dataset.train)
            assert feats.shape[0] == len(self.ctx.dataset.train)
            self.memory = feats.mean(0)
            self.labels = [s.pid if i % 7 else -1 for i, s in enumerate(self.ctx.dataset.train)]

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        train = self.ctx.dataset.train
        sampler = "camera" if (self.cfg.pseudo and stage.name == "s1") else "identity"
        loaders = {"train": self.ctx.train_loader(train, sampler=sampler, labels=self.labels)}
        if self.cfg.two_loaders:
            loaders["extra"] = self.ctx.train_loader(train, sampler="random", batch_size=4)
        return loaders

    def losses(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        data = batch["train"]
        if self.labels is not None:
            assert (data["pid"] >= 0).all()
        f, logits = self.net(data["img"])
        ce = F.cross_entropy(logits, data["pid"])
        if step.global_step == self.cfg.nan_at:
            ce = ce * float("nan")
        losses = {"ce": ce, "mem": 0.01 * (f.mean(0) - self.memory.to(f.device)).pow(2).sum()}
        if "extra" in batch:
            f2, _ = self.net(batch["extra"]["img"])
            losses["extra"] = 0.01 * f2.pow(2).mean()
        return losses

    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        return self.losses(batch, step)

    def on_stage_end(self, stage: Stage) -> None:
        if self.cfg.dump_weights:
            net = getattr(self.net, "module", self.net)
            torch.save(net.state_dict(), self.ctx.output_dir / f"weights-rank{self.ctx.rank}-{stage.name}.pt")

    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        f, _ = self.net(batch["img"])
        return f

    def state_dict(self) -> dict[str, Any]:
        return {"memory": self.memory, "labels": self.labels}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.memory = state["memory"]
        self.labels = state["labels"]


class DummyManual(Dummy):
    """Manual optimisation with two optimizers (as AIM): the head steps on its own loss first."""

    name = "dummy-manual"
    manual_optimization = True

    def setup_stage(self, stage: Stage) -> None:
        super().setup_stage(stage)
        if not hasattr(self, "head_raw"):
            self.head_raw = nn.Linear(8, self.ctx.dataset.num_train_pids)
        self.head = self.add_module("head", self.head_raw)
        self.add_optimizer("head", torch.optim.SGD(self.head.parameters(), lr=0.1, momentum=0.9))

    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        data = batch["train"]
        f, _ = self.net(data["img"])
        head_loss = F.cross_entropy(self.head(f.detach()), data["pid"])
        step.optimize({"head": head_loss}, "head")
        losses = self.losses(batch, step)
        step.optimize(losses, ["net"])
        return {"head": head_loss.detach(), **{k: v.detach() for k, v in losses.items()}}


def make_config(method: type[Method] = Dummy, **sections: dict[str, Any]) -> Any:
    """A run config for ``method`` with tiny data settings; ``sections`` override per section."""
    cls = run_config_class(method.name, method.config_class)
    base = {
        "data": {"dataset": "tiny", "height": HEIGHT, "width": WIDTH, "batch_size": 8, "num_instances": 2,
                 "num_workers": 0, "eval_batch_size": 16},
        "train": {"device": "cpu", "log_every": 1},
    }
    return resolve(cls, base, sections)


class EnginePlugin:
    """Registers the tiny data set (rooted at ``root``), the test evaluator and the dummy methods."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @hookimpl
    def reid_register_datasets(self, register: Any) -> None:
        register("tiny", lambda root, **options: tiny_dataset(self.root), description="engine test data")

    @hookimpl
    def reid_register_evaluators(self, register: Any) -> None:
        register("test-eval", NearestEvaluator, description="nearest-neighbour test evaluator")

    @hookimpl
    def reid_register_methods(self, register: Any) -> None:
        register("dummy", Dummy, description="engine test method")
        register("dummy-manual", DummyManual, description="engine test method (manual optimisation)")


def final_weights(output_dir: Path) -> dict[str, dict[str, torch.Tensor]]:
    """The module weights of a run's ``last.pt``."""
    return torch.load(output_dir / "checkpoints" / "last.pt", weights_only=True)["modules"]


def one_thread() -> Any:
    """Run a test with one torch thread (the machines are shared; more threads only contend)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
