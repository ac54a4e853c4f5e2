"""The engine's training throughput against a bare PyTorch loop, same model, batches and process.

Both loops train the strong baseline's model (a small ResNet-18, BNNeck, CE-LS + triplet, Adam)
on the same pre-built in-memory batches, so the difference is the engine's own work per
iteration: moving the batch, the autocast context, the NaN/inf check, loss bookkeeping, progress
and per-epoch logging. Runs alternate (bare, engine, bare, engine, ...) and the medians are
compared. Both are timed around the iteration loop only (the engine's from ``on_epoch_start`` to
``on_epoch_end``, so without the final evaluation and checkpoint), with the wall clock and with
the process's CPU time: on a shared machine other processes slow the wall clock down at random,
while the CPU time counts only this process's work (use ``--threads 1`` for a stable CPU time).

Usage::

    python benchmarks/train_overhead.py [--iters 30] [--repeats 3] [--batch 32] [--width 32]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from reid_core.config import resolve, run_config_class
from reid_core.data.sample import Sample
from reid_core.datasets.base import EvalSpec, ReidDataset
from reid_core.engine import train_run
from reid_core.losses import CrossEntropyLabelSmooth, TripletLoss
from reid_core.methods.base import Stage
from reid_core.methods.baseline import Baseline, BaselineModel
from reid_core.models import build_backbone, build_pooling


def make_batches(n: int, batch: int, k: int, height: int, width: int, num_classes: int) -> list[dict[str, Any]]:
    """``n`` P x K batches of random images, built once and reused by both loops."""
    gen = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        pids = torch.randperm(num_classes, generator=gen)[: batch // k].repeat_interleave(k)
        out.append({"img": torch.randn(batch, 3, height, width, generator=gen), "pid": pids,
                    "camid": torch.zeros(batch, dtype=torch.long)})
    return out


def tiny_eval_dataset(root: Path, num_classes: int) -> ReidDataset:
    """Train samples (never read: training uses the in-memory batches) and 4 query/gallery images."""
    train = [Sample(str(root / "unused.png"), pid, 0) for pid in range(num_classes) for _ in range(2)]
    test = []
    for i in range(4):
        path = root / f"{i}.png"
        Image.fromarray(np.full((16, 8, 3), 60 * i, dtype=np.uint8)).save(path)
        test.append(Sample(str(path), i % 2, i // 2))
    return ReidDataset(train, test[:2], test[2:], evaluations=[EvalSpec("market")])


class Clock:
    """Wall-clock and CPU seconds between :meth:`start` and :meth:`stop`."""

    def start(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


class InMemoryBaseline(Baseline):
    """The baseline, fed from a list of ready batches instead of an image loader, timing its epoch."""

    batches: list[dict[str, Any]] = []
    clock = Clock()
    elapsed: tuple[float, float] = (0.0, 0.0)

    def stages(self) -> list[Stage]:
        return [Stage("train", 1, len(self.batches))]

    def on_epoch_start(self, epoch: int, stage: Stage) -> None:
        InMemoryBaseline.clock.start()

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        return {"train": self.batches}

    def on_epoch_end(self, epoch: int, stage: Stage) -> None:
        InMemoryBaseline.elapsed = InMemoryBaseline.clock.stop()
        super().on_epoch_end(epoch, stage)


def bare_loop(batches: list[dict[str, Any]], num_classes: int, width: int) -> tuple[float, float]:
    """A plain PyTorch loop over the batches; returns images/s by the wall clock and by CPU time."""
    torch.manual_seed(1)
    model = BaselineModel(build_backbone("resnet18", width=width), build_pooling("avg"), num_classes)
    model.train()
    id_loss, triplet = CrossEntropyLabelSmooth(0.1), TripletLoss(0.3)
    optimizer = torch.optim.Adam(model.parameters(), lr=3.5e-4, weight_decay=5e-4)
    clock = Clock()
    clock.start()
    for batch in batches:
        f, _, logits = model(batch["img"])
        loss = id_loss(logits, batch["pid"]) + triplet(f, batch["pid"])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    wall, cpu = clock.stop()
    images = sum(len(b["img"]) for b in batches)
    return images / wall, images / cpu


def engine_loop(
    batches: list[dict[str, Any]], num_classes: int, width: int, root: Path, run: int
) -> tuple[float, float]:
    """The same training through ``train_run``; returns images/s by the wall clock and by CPU time."""
    InMemoryBaseline.batches = batches
    cls = run_config_class("baseline", Baseline.config_class)
    config = resolve(cls, {
        "data": {"height": batches[0]["img"].shape[2], "width": batches[0]["img"].shape[3], "num_workers": 0},
        "train": {"device": "cpu", "seed": 1, "log_every": 10_000},
        "baseline": {"backbone": "resnet18", "width": width, "pretrained": "none", "warmup_epochs": 0},
    })
    out = root / f"run{run}"
    train_run(InMemoryBaseline, config, output_dir=out, resume=False, dataset=tiny_eval_dataset(root, num_classes))
    wall, cpu = InMemoryBaseline.elapsed
    images = sum(len(b["img"]) for b in batches)
    return images / wall, images / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--net-width", type=int, default=32, help="ResNet-18 base width")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    num_classes = 16
    batches = make_batches(args.iters, args.batch, args.instances, args.height, args.width, num_classes)
    bare: list[tuple[float, float]] = []
    engine: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        bare_loop(batches[:2], num_classes, args.net_width)  # warm-up (allocator, kernels)
        for run in range(args.repeats):
            bare.append(bare_loop(batches, num_classes, args.net_width))
            engine.append(engine_loop(batches, num_classes, args.net_width, Path(tmp), run))
            print(f"repeat {run + 1}: bare {bare[-1][0]:.1f} img/s wall, {bare[-1][1]:.1f} img/s cpu; "
                  f"engine {engine[-1][0]:.1f} img/s wall, {engine[-1][1]:.1f} img/s cpu", flush=True)
    print(f"batch {args.batch}, {args.height}x{args.width}, resnet18 width {args.net_width}, {args.iters} "
          f"iterations, {torch.get_num_threads()} thread(s), {args.repeats} repeats (medians):")
    for i, clock in enumerate(("wall clock", "CPU time")):
        b, e = statistics.median(r[i] for r in bare), statistics.median(r[i] for r in engine)
        print(f"  {clock:<10}: bare {b:.2f} img/s, engine {e:.2f} img/s, overhead {100 * (b - e) / b:+.1f}%")


if __name__ == "__main__":
    main()
