"""StepRunner.optimize: clipping, accumulation, several optimizers, retain_graph, NaN naming, fp16 scaler."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from reid_core.engine import NonFiniteLossError, StepRunner
from reid_core.engine.step import make_scaler


def _runner(optimizers: dict, **kw) -> StepRunner:
    runner = StepRunner(lambda: optimizers, amp=kw.pop("amp", "off"), device=torch.device("cpu"), **kw)
    runner.begin(epoch=0, stage_epoch=0, iteration=0, global_step=0, iterations=kw.get("iterations", 4))
    return runner


def test_gradient_clipping_bounds_the_update() -> None:
    p = nn.Parameter(torch.zeros(3))
    runner = _runner({"o": torch.optim.SGD([p], lr=1.0)}, grad_clip=1.0)
    runner.optimize({"big": 1000 * p.sum()}, "o")
    assert p.norm().item() == pytest.approx(1.0, rel=1e-4)
    assert p.grad is None  # zeroed after the step


def test_accumulation_steps_every_n_iterations_and_at_epoch_end() -> None:
    p = nn.Parameter(torch.zeros(1))
    runner = StepRunner(lambda: {"o": torch.optim.SGD([p], lr=1.0)}, amp="off", device=torch.device("cpu"),
                        accumulate=2)
    values = []
    for it in range(3):
        runner.begin(epoch=0, stage_epoch=0, iteration=it, global_step=it, iterations=3)
        runner.optimize({"l": p.sum()}, "o")
        values.append(p.item())
    # iteration 0: gradient kept; 1: step with the mean gradient (1); 2: the epoch's last, steps alone (0.5)
    assert values == [0.0, -1.0, -1.5]


def test_two_optimizers_through_one_forward_with_retain_graph() -> None:
    a, b = nn.Linear(2, 2), nn.Linear(2, 1)
    opts = {"a": torch.optim.SGD(a.parameters(), lr=0.1), "b": torch.optim.SGD(b.parameters(), lr=0.1)}
    runner = _runner(opts)
    h = a(torch.randn(4, 2))
    before = b.weight.detach().clone()
    runner.optimize({"b": b(h).pow(2).mean()}, "b", retain_graph=True)
    assert not torch.equal(before, b.weight)
    runner.optimize({"a": h.pow(2).mean()}, ["a"])
    with pytest.raises(KeyError, match=r"unknown optimizer.*\['c'\].*\['a', 'b'\]"):
        runner.optimize({"a": a(torch.randn(1, 2)).sum()}, "c")


def test_non_finite_names_only_the_bad_terms() -> None:
    p = nn.Parameter(torch.ones(1))
    runner = _runner({"o": torch.optim.SGD([p], lr=1.0)})
    runner.begin(epoch=3, stage_epoch=1, iteration=7, global_step=42, iterations=10)
    with pytest.raises(NonFiniteLossError) as info:
        runner.optimize({"ok": p.sum(), "bad": p.sum() * float("inf")}, "o")
    assert info.value.terms == ["bad"]
    assert "'bad' at epoch 4 " in str(info.value) and "iteration 8/10" in str(info.value)  # as the progress line
    assert p.grad is None  # nothing was back-propagated


def test_fp16_scaler_steps_and_updates() -> None:
    p = nn.Parameter(torch.ones(2))
    scaler = make_scaler("fp16", torch.device("cpu"))
    assert scaler is not None and make_scaler("bf16", torch.device("cpu")) is None
    runner = _runner({"o": torch.optim.SGD([p], lr=0.5)}, scaler=scaler, grad_clip=10.0)
    runner.optimize({"l": p.sum()}, "o")
    runner.end()
    torch.testing.assert_close(p.detach(), torch.full((2,), 0.5))
