"""The run folder, metrics.json, refusal of an existing run, finished-run resume, events, NaN detection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from click.testing import CliRunner
from engine_support import Dummy, DummyManual, EnginePlugin, make_config, one_thread

from reid_core.cli import build_cli
from reid_core.engine import EngineError, NonFiniteLossError, train_run
from reid_core.engine import checkpoint as ckpt
from reid_core.hookspecs import hookimpl
from reid_core.testing import active_plugin_manager, plugin_manager_with

METRIC_KEYS = {"rank1", "rank5", "rank10", "rank20", "mAP", "mINP"}

_one_thread = pytest.fixture(autouse=True)(one_thread)


class Recorder:
    """Observes the engine events."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def reid_run_start(self, run: Any) -> None:
        self.calls.append(("start", run.epoch))

    @hookimpl
    def reid_epoch_end(self, run: Any, epoch: int, metrics: dict[str, Any]) -> None:
        self.calls.append(("epoch", epoch, sorted(metrics)))

    @hookimpl
    def reid_run_end(self, run: Any, metrics: dict[str, Any]) -> None:
        self.calls.append(("end", sorted(metrics)))


@pytest.fixture
def recorder(tmp_path: Path):
    rec = Recorder()
    manager = plugin_manager_with(EnginePlugin(tmp_path / "data"), rec, name="engine-test")
    with active_plugin_manager(manager):
        yield rec


def test_run_folder_and_metrics(recorder: Recorder, tmp_path: Path) -> None:
    out = tmp_path / "run"
    config = make_config(Dummy, dummy={"epochs": 3}, train={"eval_every": 1})
    metrics = train_run(Dummy, config, output_dir=out, resume=False)
    assert (out / "config.toml").read_text().startswith("[data]")
    assert "epoch 3/3 done" in (out / "log.txt").read_text()
    assert any((out / "tensorboard").iterdir())
    assert {p.name for p in (out / "checkpoints").iterdir()} == {"last.pt", "best.pt"}
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == metrics
    assert set(metrics) == {"test-eval"}
    entry = metrics["test-eval"]
    assert set(entry["last"]) >= METRIC_KEYS and set(entry["best"]) >= METRIC_KEYS
    assert 1 <= entry["best_epoch"] <= 3
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert state["epoch"] == 3 and state["finished"] and len(state["history"]) == 3
    assert "test-eval/rank1" in state["history"][0]  # evaluated every epoch
    kinds = [c[0] for c in recorder.calls]
    assert kinds == ["start", "epoch", "epoch", "epoch", "end"]
    assert "loss/ce" in recorder.calls[1][2] and "lr/net" in recorder.calls[1][2]
    assert "images_per_second" in recorder.calls[1][2]


def test_existing_output_is_refused_and_finished_run_resumes_to_its_metrics(
    recorder: Recorder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "run"
    config = make_config(Dummy, dummy={"epochs": 1})
    metrics = train_run(Dummy, config, output_dir=out, resume=False)
    before = (out / "checkpoints" / "last.pt").stat().st_mtime_ns
    with pytest.raises(EngineError, match=r"already holds a run.*--resume"):
        train_run(Dummy, config, output_dir=out, resume=False)
    assert train_run(Dummy, config, output_dir=out, resume=True) == metrics
    assert "already finished" in caplog.text
    assert (out / "checkpoints" / "last.pt").stat().st_mtime_ns == before
    with pytest.raises(EngineError, match="holds no run"):
        train_run(Dummy, config, output_dir=tmp_path / "nothing", resume=True)


def test_cli_refuses_and_resumes_finished_run(tmp_path: Path) -> None:
    manager = plugin_manager_with(EnginePlugin(tmp_path / "data"), name="engine-test")
    with active_plugin_manager(manager):
        cli = build_cli(manager)
        out = str(tmp_path / "run")
        args = ["run", "dummy", "--dataset", "tiny", "--device", "cpu", "--output", out,
                "--set", "data.height=32", "--set", "data.width=16", "--set", "data.batch_size=8",
                "--set", "data.num_instances=2", "--set", "data.num_workers=0", "--set", "dummy.epochs=1"]
        first = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert first.exit_code == 0, first.output
        again = CliRunner().invoke(cli, args)
        assert again.exit_code != 0 and "already holds a run" in again.output
        resumed = CliRunner().invoke(cli, [*args, "--resume"])
        assert resumed.exit_code == 0, resumed.output
        assert json.loads(resumed.output[resumed.output.index("{"):])["test-eval"]["best_epoch"] == 1


def test_nan_loss_names_term_epoch_and_iteration(recorder: Recorder, tmp_path: Path) -> None:
    config = make_config(Dummy, dummy={"epochs": 2, "nan_at": 5})  # 4 iterations per epoch
    with pytest.raises(NonFiniteLossError) as info:
        train_run(Dummy, config, output_dir=tmp_path / "run", resume=False)
    message = str(info.value)
    assert "'ce'" in message and "'mem'" not in message.split(";")[0]
    assert "epoch 2 " in message and "iteration 2/4" in message  # 1-based, as the progress line
    assert info.value.terms == ["ce"] and info.value.epoch == 1 and info.value.iteration == 1


def test_nan_detection_in_manual_optimisation(recorder: Recorder, tmp_path: Path) -> None:
    config = make_config(DummyManual, dummy_manual={"epochs": 1, "nan_at": 0})
    with pytest.raises(NonFiniteLossError, match=r"'ce'.*epoch 1 .*iteration 1/"):
        train_run(DummyManual, config, output_dir=tmp_path / "run", resume=False)


def test_max_iters_accumulation_and_iters_per_epoch(recorder: Recorder, tmp_path: Path) -> None:
    config = make_config(Dummy, dummy={"epochs": 1, "iters": 6}, train={"accumulate": 2, "max_iters": 5})
    train_run(Dummy, config, output_dir=tmp_path / "run", resume=False)
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert state["global_step"] == 5  # iters_per_epoch 6 capped by max_iters 5
    adam_steps = next(iter(state["optimizers"]["net"]["state"].values()))["step"]
    assert int(adam_steps) == 3  # steps after iterations 2, 4 and the epoch's last (5)


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_amp_on_cpu(recorder: Recorder, tmp_path: Path, amp: str) -> None:
    config = make_config(Dummy, dummy={"epochs": 1}, train={"amp": amp, "grad_clip": 1.0})
    metrics = train_run(Dummy, config, output_dir=tmp_path / "run", resume=False)
    assert metrics["test-eval"]["last"]["queries"] == 8
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert (state["scaler"] is not None) == (amp == "fp16")


def test_best_metric_must_exist(recorder: Recorder, tmp_path: Path) -> None:
    from reid_core.config import ConfigError

    config = make_config(Dummy, train={"best_metric": "market/rank1"})
    with pytest.raises(ConfigError, match=r"best_metric.*test-eval/rank1"):
        train_run(Dummy, config, output_dir=tmp_path / "run", resume=False)


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "checkpoints" / "last.pt"
    ckpt.atomic_save({"modules": {"a": torch.ones(2)}}, path)

    def broken_save(obj: Any, handle: Any) -> None:
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        ckpt.atomic_save({"modules": {"a": torch.zeros(2)}}, path)
    monkeypatch.undo()
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temp file left behind
    torch.testing.assert_close(ckpt.load(path)["modules"]["a"], torch.ones(2))


def test_checkpoint_refuses_pickled_code(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"modules": {}, "payload": Recorder()}, path)
    with pytest.raises(EngineError, match="weights_only"):
        ckpt.load(path)


def test_rng_state_round_trip() -> None:
    import random

    import numpy as np

    state = ckpt.rng_state()
    expected = (random.random(), np.random.rand(), torch.rand(1))
    ckpt.set_rng_state(state)
    assert (random.random(), np.random.rand()) == expected[:2]
    assert torch.equal(torch.rand(1), expected[2])


def test_evaluate_checkpoint_matches_the_run_and_checks_the_method(recorder: Recorder, tmp_path: Path) -> None:
    from reid_core.engine import evaluate_checkpoint

    out = tmp_path / "run"
    config = make_config(Dummy, dummy={"epochs": 1})
    metrics = train_run(Dummy, config, output_dir=out, resume=False)
    results = evaluate_checkpoint(Dummy, config, out / "checkpoints" / "best.pt")
    assert results["test-eval"]["rank1"] == metrics["test-eval"]["best"]["rank1"]
    assert results["test-eval"]["mAP"] == pytest.approx(metrics["test-eval"]["best"]["mAP"])
    with pytest.raises(EngineError, match="written by method 'dummy', not 'dummy-manual'"):
        evaluate_checkpoint(DummyManual, make_config(DummyManual), out / "checkpoints" / "best.pt")


class DummyTestTransform(Dummy):
    """A Dummy whose test transform is its own (e.g. ICSR's bicubic resize): evaluation must use it."""

    used: ClassVar[list[int]] = []

    def test_transform(self) -> Any:
        from reid_core.data.transforms import build_test_transform

        inner = build_test_transform(self.config.data.height, self.config.data.width)

        def transform(image: Any) -> Any:
            DummyTestTransform.used.append(1)
            return inner(image)

        return transform


def test_method_test_transform_is_used_for_evaluation(recorder: Recorder, tmp_path: Path) -> None:
    DummyTestTransform.used.clear()
    config = make_config(DummyTestTransform, dummy={"epochs": 1})
    train_run(DummyTestTransform, config, output_dir=tmp_path / "run", resume=False)
    dataset_size = 8 + 8  # the tiny data set's query and gallery images
    assert len(DummyTestTransform.used) == dataset_size


class DummyForeign(Dummy):
    """A Dummy that reads its weights from a foreign layout: ``{"net": {...}}`` with an ``old.`` prefix."""

    checkpoint_formats = ("demo",)

    def convert_checkpoint(self, source: str, state: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
        if "net" not in state:
            raise KeyError(f"no 'net' key (keys: {sorted(state)})")
        return {"net": {k.removeprefix("old."): v for k, v in state["net"].items()}}


class DummyUnconverted(Dummy):
    checkpoint_formats = ("demo",)  # declared but not implemented: a plugin bug, reported as such


def test_foreign_checkpoints_are_converted_or_refused_by_name(recorder: Recorder, tmp_path: Path) -> None:
    """``reid eval --from``: the method converts a foreign layout, which then gives the run's own
    numbers; an unknown format, a wrong layout and a missing converter are one-line errors."""
    from reid_core.engine import evaluate_checkpoint

    out = tmp_path / "run"
    config = make_config(Dummy, dummy={"epochs": 1})
    metrics = train_run(Dummy, config, output_dir=out, resume=False)
    weights = torch.load(out / "checkpoints" / "last.pt", weights_only=True)["modules"]["net"]
    foreign = tmp_path / "foreign.pth"
    torch.save({"net": {f"old.{k}": v for k, v in weights.items()}, "epoch": 1}, foreign)
    results = evaluate_checkpoint(DummyForeign, make_config(DummyForeign), foreign, source="demo")
    assert results["test-eval"]["mAP"] == pytest.approx(metrics["test-eval"]["last"]["mAP"])
    with pytest.raises(EngineError, match="reads checkpoints of 'reid', 'demo'"):
        evaluate_checkpoint(DummyForeign, make_config(DummyForeign), foreign, source="other")
    torch.save({"model": weights}, tmp_path / "wrong.pth")
    with pytest.raises(EngineError, match=r"is not a 'demo' dummy checkpoint: no 'net' key \(keys: \['model'\]\)"):
        evaluate_checkpoint(DummyForeign, make_config(DummyForeign), tmp_path / "wrong.pth", source="demo")
    with pytest.raises(EngineError, match="does not override convert_checkpoint"):
        evaluate_checkpoint(DummyUnconverted, make_config(DummyUnconverted), foreign, source="demo")
