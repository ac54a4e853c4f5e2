"""End to end through the engine: train a few steps on a PRCC-layout tree and on synthetic-cc,
evaluate (also from the checkpoint and through ``reid eval``), and stop on a NaN AIM loss."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import reid_plugin_aim.method as aim_method
import torch
from click.testing import CliRunner
from official_layout import write_official
from reid_plugin_aim.method import AIM, MODULE_NAMES

from reid_core.cli import build_cli
from reid_core.datasets.fixtures import write_layout
from reid_core.engine import evaluate_checkpoint, train_run
from reid_core.engine.errors import NonFiniteLossError
from reid_core.plugins import get_plugin_manager
from reid_core.resolve import resolve_run_config
from reid_core.testing import run_method_smoke

pytestmark = pytest.mark.slow

#: Tiny but complete: 2 epochs, the AIM terms on from the second one.
TINY = [
    "data.height=32",
    "data.width=16",
    "data.batch_size=8",
    "data.num_instances=4",
    "data.eval_batch_size=16",
    "aim.width=8",
    "aim.part_dim=8",
    "aim.epochs=2",
    "aim.milestones=[1]",
    "aim.start_epoch=1",
    "aim.iters_per_epoch=0",
    "train.log_every=1",
]


@pytest.fixture(scope="module")
def prcc_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("prcc-root")
    write_layout("prcc", root, ids=6, seed=0)
    return root


@pytest.fixture(scope="module")
def prcc_run(prcc_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, dict[str, Any]]:
    torch.manual_seed(0)
    config = resolve_run_config(AIM, dataset="prcc", root=str(prcc_root), profile="quick", sets=TINY, device="cpu")
    out = tmp_path_factory.mktemp("aim-prcc") / "run"
    metrics = train_run(AIM, config, output_dir=out)
    return config, out, metrics


def test_prcc_run_evaluates_cloth_changing_and_same_clothes(prcc_run: tuple[Any, Path, dict[str, Any]]) -> None:
    _, out, metrics = prcc_run
    assert set(metrics) == {"cloth-changing", "same-clothes"}
    for key in metrics:
        last = metrics[key]["last"]
        assert 0.0 <= last["rank1"] <= 100.0 and 0.0 <= last["mAP"] <= 100.0
        assert last["queries"] > 0
    assert json.loads((out / "metrics.json").read_text()) == metrics


def test_prcc_run_gates_the_aim_terms_by_epoch(prcc_run: tuple[Any, Path, dict[str, Any]]) -> None:
    _, out, _ = prcc_run
    state = torch.load(out / "checkpoints" / "last.pt", map_location="cpu", weights_only=False)
    first, second = state["history"]
    aim_terms = {"loss/cal", "loss/adv", "loss/kl"}
    assert not aim_terms & set(first)
    assert aim_terms <= set(second)
    assert {"loss/id", "loss/clothes_c", "loss/clothes_a"} <= set(first)
    assert {"lr/main", "lr/bias", "lr/clothes"} <= set(second)
    assert second["lr/main"] == pytest.approx(1e-4) and second["lr/clothes"] == pytest.approx(1e-3)


def test_checkpoint_holds_the_six_state_dicts(prcc_run: tuple[Any, Path, dict[str, Any]]) -> None:
    _, out, _ = prcc_run
    state = torch.load(out / "checkpoints" / "last.pt", map_location="cpu", weights_only=False)
    assert tuple(state["modules"]) == MODULE_NAMES
    assert set(state["optimizers"]) == {"main", "bias", "clothes"}
    assert set(state["schedulers"]) == {"main", "bias"}
    assert "linear.weight" in state["modules"]["fuse"]
    assert "head.linear.weight" in state["modules"]["model2"]


def test_evaluating_the_checkpoint_reproduces_the_run(prcc_run: tuple[Any, Path, dict[str, Any]]) -> None:
    config, out, metrics = prcc_run
    results = evaluate_checkpoint(AIM, config, out / "checkpoints" / "last.pt")
    for key in metrics:
        assert results[key]["rank1"] == pytest.approx(metrics[key]["last"]["rank1"])
        assert results[key]["mAP"] == pytest.approx(metrics[key]["last"]["mAP"])


def test_reid_eval_aim_cli(prcc_root: Path, prcc_run: tuple[Any, Path, dict[str, Any]]) -> None:
    _, out, metrics = prcc_run
    args = ["eval", "aim", "--dataset", "prcc", "--root", str(prcc_root), "--device", "cpu",
            "--checkpoint", str(out / "checkpoints" / "last.pt"), "--json"]
    result = CliRunner().invoke(build_cli(get_plugin_manager()), args)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output[result.output.index("{"):])
    assert printed["cloth-changing"]["rank1"] == pytest.approx(metrics["cloth-changing"]["last"]["rank1"])


def test_reid_extract_and_export_an_aim_run(prcc_root: Path, prcc_run: tuple[Any, Path, dict[str, Any]],
                                            tmp_path: Path) -> None:
    """The run's own test split, extracted by ``reid extract`` (modules rebuilt from the checkpoint's train
    labels), evaluates to the run's numbers; the exported model gives the same features."""
    _, out, metrics = prcc_run
    cli = build_cli(get_plugin_manager())
    feats = tmp_path / "prcc.npz"
    extracted = CliRunner().invoke(cli, ["extract", "--checkpoint", str(out / "checkpoints" / "last.pt"),
                                         "--method", "aim", "--dataset", "prcc", "--root", str(prcc_root),
                                         "--output", str(feats)], catch_exceptions=False)
    assert extracted.exit_code == 0, extracted.output
    evaluated = CliRunner().invoke(cli, ["evaluate-features", str(feats), "-p", "cloth-changing", "--json"])
    assert evaluated.exit_code == 0, evaluated.output  # the file names its metric: cosine
    assert json.loads(evaluated.output)["mAP"] == pytest.approx(metrics["cloth-changing"]["last"]["mAP"], abs=1e-4)
    exported = CliRunner().invoke(cli, ["export", "--run", str(out), "--format", "onnx", "--output",
                                        str(tmp_path / "aim.onnx")], catch_exceptions=False)
    assert exported.exit_code == 0 and "max |exported - eager|" in exported.output, exported.output


def test_synthetic_cc_trains_resumes_and_reevaluates(tmp_path: Path) -> None:
    quick = resolve_run_config(AIM, device="cpu")
    assert quick.data.dataset == "synthetic-cc" and quick.aim.backbone == "resnet18"  # the demo: quick profile
    # the kit's smoke: 2 steps per epoch on tiny synthetic-cc, interrupted after epoch 1 (before the
    # AIM terms start) and resumed, then last.pt evaluated again
    result = run_method_smoke("aim", "cloth-changing", sets=TINY, output_dir=tmp_path / "run")
    assert result.resumed and set(result.metrics) == {"cloth-changing", "standard", "same-clothes"}
    assert {"loss/cal", "loss/kl"} <= set(result.history[1]) and "loss/kl" not in result.history[0]


def test_reid_eval_from_official_weights(
    prcc_root: Path, prcc_run: tuple[Any, Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, out, metrics = prcc_run
    state = torch.load(out / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    official = write_official(state["modules"], tmp_path / "aim_prcc_official.pth.tar")
    base = ["eval", "aim", "--dataset", "prcc", "--root", str(prcc_root), "--device", "cpu", "--profile", "quick",
            *[a for s in TINY for a in ("--set", s)], "--json"]
    result = CliRunner().invoke(build_cli(get_plugin_manager()), [*base, "--checkpoint", str(official),
                                                                  "--from", "official"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output[result.output.index("{"):])
    for key in metrics:
        assert printed[key]["rank1"] == pytest.approx(metrics[key]["last"]["rank1"])
        assert printed[key]["mAP"] == pytest.approx(metrics[key]["last"]["mAP"])
    # a reid checkpoint is not the official layout: a one-line error naming the keys
    result = CliRunner().invoke(build_cli(get_plugin_manager()), [*base, "--checkpoint",
                                                                  str(out / "checkpoints" / "last.pt"),
                                                                  "--from", "official"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "no 'model_state_dict'" in result.output and "'modules'" in result.output
    result = CliRunner().invoke(build_cli(get_plugin_manager()), [*base, "--checkpoint", str(official),
                                                                  "--from", "torchreid"])
    assert "Error:" in result.output and "reads checkpoints of 'reid', 'official'" in result.output



def test_nan_in_an_aim_loss_stops_the_run_and_names_it(
    prcc_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aim_method, "symmetric_kl", lambda p, q: (p * float("nan")).sum())
    sets = [*TINY, "aim.start_epoch=0", "aim.epochs=1"]
    config = resolve_run_config(AIM, dataset="prcc", root=str(prcc_root), profile="quick", sets=sets, device="cpu")
    with pytest.raises(NonFiniteLossError, match="'kl'") as info:
        train_run(AIM, config, output_dir=tmp_path / "run")
    assert info.value.terms == ["kl"] and info.value.epoch == 0
