"""Bad input never costs a user their work (issue 17): the cases that end in a run.

A run that failed before finishing an epoch is fixed in place; ``--resume`` compares only what
the user typed; Ctrl-C says how to resume (exit 130, logged); a checkpoint records its run and
evaluates on another data set; ``--dry-run`` checks everything and writes nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from bad_input_support import MARKET, Q, invoke, snapshot
from click.testing import CliRunner

from reid_core import config as cfg
from reid_core.cli import build_cli
from reid_core.datasets.fixtures import write_layout
from reid_core.engine import checkpoint as ckpt
from reid_core.engine.evaluate import format_table
from reid_core.engine.resume import resume_config
from reid_core.engine.runner import Run
from reid_core.methods.baseline import Baseline
from reid_core.plugins import get_plugin_manager
from reid_core.resolve import resolve_run_config


def _fail_first_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Run, stage: Any, total: int) -> dict[str, float]:
        raise torch.cuda.OutOfMemoryError("simulated failure inside the first epoch")

    monkeypatch.setattr(Run, "_train_epoch", broken)


def test_a_run_that_never_finished_an_epoch_is_fixed_in_place(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        _fail_first_epoch(patch)
        with pytest.raises(torch.cuda.OutOfMemoryError):
            CliRunner().invoke(build_cli(get_plugin_manager()), ["run", "baseline", *Q, "--output", "out"],
                               catch_exceptions=False)
    assert (work / "out" / "config.toml").is_file() and not (work / "out" / "checkpoints" / "last.pt").exists()
    first_log = (work / "out" / "log.txt").read_text()
    fixed = invoke("run", "baseline", *Q, "--set", "baseline.lr=0.002", "--output", "out")  # the corrected command
    assert fixed.exit_code == 0, fixed.output
    assert "lr = 0.002" in (work / "out" / "config.toml").read_text()
    log = (work / "out" / "log.txt").read_text()
    assert log.startswith(first_log) and "held a run that never finished an epoch" in log  # the first attempt's log is kept


def test_resume_of_an_unfinished_run_applies_the_typed_fix(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        _fail_first_epoch(patch)
        with pytest.raises(torch.cuda.OutOfMemoryError):
            CliRunner().invoke(build_cli(get_plugin_manager()),
                               ["run", "baseline", *Q, "--set", "baseline.lr=0.5", "--output", "out"],
                               catch_exceptions=False)
    resumed = invoke("run", "baseline", "--output", "out", "--resume", "--set", "baseline.lr=0.002")
    assert resumed.exit_code == 0, resumed.output
    text = (work / "out" / "config.toml").read_text()
    assert "lr = 0.002" in text and 'dataset = "market1501"' in text  # the fix, on top of the saved run


def test_resume_compares_only_typed_values() -> None:
    saved = resolve_run_config(Baseline, dataset="market1501", profile="quick", sets=["baseline.lr=0.01"])
    given = resolve_run_config(Baseline, dataset="market1501")  # the paper profile: many other values
    typed = [{"baseline": {"lr": 0.5}}, {"train": {"log_every": 5}}]
    done = resume_config(saved, given, typed, trained=True)
    assert done.ignored == ("baseline.lr = 0.5 (saved 0.01)",)
    assert done.applied == ("train.log_every = 5 (saved 10)",)
    assert done.config.baseline == saved.baseline and done.config.train.log_every == 5
    fresh = resume_config(saved, given, typed, trained=False)
    assert fresh.config.baseline.lr == 0.5 and fresh.config.data == saved.data and not fresh.ignored


def test_ctrl_c_says_how_to_resume_and_exits_130(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Run._train_epoch
    calls = []

    def interrupt_second(self: Run, stage: Any, total: int) -> dict[str, float]:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, stage, total)

    with monkeypatch.context() as patch:
        patch.setattr(Run, "_train_epoch", interrupt_second)
        result = invoke("run", "baseline", *Q, "--set", "baseline.epochs=2", "--output", "out")
    expected = "interrupted after epoch 1; resume with `reid run baseline --output out --resume`"
    assert result.exit_code == 130, result.output
    assert expected in result.output and "Aborted" not in result.output
    assert expected in (work / "out" / "log.txt").read_text()
    resumed = invoke("run", "baseline", "--output", "out", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((work / "out" / "metrics.json").read_text())["market"]["best_epoch"] in (1, 2)


def test_checkpoint_records_its_run(work: Path) -> None:
    state = torch.load(work / "trained" / "checkpoints" / "last.pt", weights_only=True)
    saved = cfg.loads_toml(type(resolve_run_config(Baseline)), (work / "trained" / "config.toml").read_text())
    assert state["method"] == "baseline" and state["dataset"] == "market1501"
    assert state["config_digest"] == ckpt.config_digest(saved)


def test_cross_domain_eval_ignores_the_classifier(work: Path) -> None:
    write_layout("dukemtmcreid", work / "other", ids=6, seed=3)
    result = invoke("eval", "baseline", "--dataset", "dukemtmcreid", "--root", "other", "--profile", "quick",
                    "--device", "cpu", "--checkpoint", "trained/checkpoints/best.pt", "--json")
    assert result.exit_code == 0, result.output
    results = json.loads(result.output[result.output.index("{"):])
    assert 0.0 <= results["market"]["mAP"] <= 100.0


def test_tables_show_skipped_queries(work: Path) -> None:
    table = format_table({"market": {"last": {"rank1": 50.0, "mAP": 40.0, "queries": 3, "skipped": 2}}})
    assert table.splitlines()[0].split()[-2:] == ["queries", "skipped"]
    assert table.splitlines()[1].split()[-2:] == ["3", "2"]
    result = invoke("eval", "baseline", "--dataset", "market1501", "--root", "base", "--profile", "quick",
                    "--device", "cpu", "--checkpoint", "trained/checkpoints/best.pt")
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output.split("{")[0]  # the console table, before the JSON


@pytest.mark.parametrize("command", ["run", "eval"])
def test_dry_run_checks_everything_and_writes_nothing(command: str, work: Path) -> None:
    before = snapshot(work)
    if command == "run":
        result = invoke("run", "baseline", *Q, "--output", "out", "--dry-run")
        plan = "plan: baseline on market1501 (train 9 images/2 ids"
        assert "[baseline]" in result.output and "epochs = 1" in result.output  # the resolved config as TOML
        assert "train 1 epoch(s) x 1 iterations; 1 evaluation(s) at epoch 1" in result.output
    else:
        result = invoke("eval", "baseline", "--dataset", "market1501", "--root", "base", "--profile", "quick",
                        "--checkpoint", "trained/checkpoints/best.pt", "--dry-run")
        plan = "plan: evaluate trained/checkpoints/best.pt (baseline, trained on market1501, epoch 1)"
    assert result.exit_code == 0, result.output
    assert plan in result.output
    assert snapshot(work) == before


def test_dry_run_still_refuses_bad_input(work: Path) -> None:
    shutil.rmtree(work / "trained" / "checkpoints")
    (work / "trained" / "metrics.json").unlink()
    result = invoke("run", "baseline", *Q, "--set", "data.batch_size=6", "--output", "out", "--dry-run")
    assert result.exit_code == 1 and "data.batch_size (6)" in result.output and not (work / "out").exists()


def test_broken_train_image_in_a_loader_worker_is_one_line(work: Path) -> None:
    train = sorted((work / "base" / MARKET / "bounding_box_train").glob("0*.jpg"))
    for path in train:  # every one, so that the first batch meets one
        path.write_bytes(b"not a jpeg")
    result = invoke("run", "baseline", *Q, "--set", "data.num_workers=2", "--output", "out")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "worker" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "bounding_box_train/0" in errors[0] and "re-extract" in errors[0]
    assert not (work / "out" / "checkpoints" / "last.pt").exists()  # no epoch finished: the fixed command restarts


def test_non_finite_loss_is_numbered_as_the_progress_line(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Baseline.training_step

    def nan_in_second_epoch(self: Baseline, batch: dict[str, Any], step: Any) -> dict[str, torch.Tensor]:
        losses = real(self, batch, step)
        if step.epoch == 1:  # the engine's 0-based epoch: the second one
            losses["id"] = losses["id"] * float("nan")
        return losses

    monkeypatch.setattr(Baseline, "training_step", nan_in_second_epoch)
    result = invoke("run", "baseline", *Q, "--set", "baseline.epochs=2", "--output", "out")
    assert result.exit_code == 1, result.output
    error = next(line for line in result.output.splitlines() if line.startswith("Error:"))
    assert "'id' at epoch 2 (stage epoch 2), iteration 1/1" in error and "Lower the learning rate" in error
