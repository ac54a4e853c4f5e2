"""The strong baseline: its recipe, its schedule, and a tiny end-to-end ``reid run`` / ``reid eval``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from engine_support import one_thread

from reid_core.cli import build_cli
from reid_core.methods.baseline import Baseline, BaselineConfig
from reid_core.optim import warmup_multistep
from reid_core.plugins import get_plugin_manager, get_registry
from reid_core.resolve import resolve_run_config

TINY = [
    "--option", "ids=6", "--option", "test_ids=4", "--option", "images=2", "--option", "cameras=2",
    "--option", "height=64", "--option", "width=32",
]
TINY_SET = [
    "--set", "baseline.epochs=2", "--set", "baseline.width=16", "--set", "data.batch_size=8",
    "--set", "data.num_instances=2", "--set", "train.max_iters=2",
]

_one_thread = pytest.fixture(autouse=True)(one_thread)


def test_registered_with_paper_defaults() -> None:
    assert get_registry("methods").get("baseline").factory is Baseline
    cfg = BaselineConfig()
    assert (cfg.backbone, cfg.last_stride, cfg.pooling) == ("resnet50", 1, "avg")
    assert (cfg.lr, cfg.epochs, cfg.milestones, cfg.warmup_epochs) == (3.5e-4, 120, (40, 70), 10)
    assert (cfg.label_smoothing, cfg.margin, cfg.center_weight) == (0.1, 0.3, 0.0)
    paper = resolve_run_config(Baseline, dataset="market1501", root="/nowhere")
    assert (paper.data.height, paper.data.width, paper.data.batch_size, paper.data.num_instances) == (256, 128, 64, 4)
    quick = resolve_run_config(Baseline)  # the demo: synthetic data, quick profile
    assert quick.data.dataset == "synthetic" and quick.baseline.backbone == "resnet18"
    assert quick.baseline.pretrained == "none"


def test_warmup_then_steps() -> None:
    factor = warmup_multistep(10, 0.01, (40, 70), 0.1)
    assert factor(0) == pytest.approx(0.01)
    assert factor(5) == pytest.approx(0.01 * 0.5 + 0.5)
    assert factor(10) == factor(39) == 1.0
    assert factor(40) == pytest.approx(0.1) and factor(70) == pytest.approx(0.01)
    assert warmup_multistep(4, 0.1, (8,), 0.1, method="constant")(3) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="warm-up method"):
        warmup_multistep(4, 0.1, (8,), method="cosine")


def test_warmup_scheduler_steps_per_epoch() -> None:
    """The public scheduler (``reid_core.optim``), stepped once per epoch, gives the CAMC values."""
    from reid_core.optim import warmup_multistep_lr

    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=3e-4)
    scheduler = warmup_multistep_lr(optimizer, 10, 0.1, (40, 80), 0.1)
    lrs = []
    for _ in range(150):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = {0: 3e-5, 1: 5.7e-5, 5: 1.65e-4, 9: 2.73e-4, 10: 3e-4, 39: 3e-4, 40: 3e-5, 79: 3e-5, 80: 3e-6, 149: 3e-6}
    for epoch, lr in expected.items():
        assert lrs[epoch] == pytest.approx(lr, rel=1e-9), epoch


def test_center_loss_adds_a_term_and_an_optimizer(tmp_path: Path) -> None:
    from engine_support import tiny_dataset

    from reid_core.engine.context import RunContext
    from reid_core.engine.distributed import DistInfo

    config = resolve_run_config(
        Baseline, profile="quick", sets=["baseline.center_weight=0.0005", "baseline.width=8", "data.height=32",
                                         "data.width=16"]
    )
    dataset = tiny_dataset(tmp_path / "data")
    method = Baseline(config, RunContext(config, dataset, DistInfo(), tmp_path))
    method.setup_stage(method.stages()[0])
    assert set(method.optimizers()) == {"model", "center"}
    batch = {"train": {"img": torch.randn(4, 3, 32, 16), "pid": torch.tensor([0, 0, 1, 1])}}
    losses = method.training_step(batch, step=None)  # type: ignore[arg-type]
    assert set(losses) == {"id", "triplet", "center"}
    method.train(False)
    feats = method.extract_features({"img": torch.randn(3, 3, 32, 16)})
    assert feats.shape == (3, 8 * 8) and torch.allclose(feats.norm(dim=1), torch.ones(3))


@pytest.mark.slow
def test_reid_run_then_eval_on_synthetic(tmp_path: Path) -> None:
    cli = build_cli(get_plugin_manager())
    out = tmp_path / "run"
    options = [*TINY, "--option", f"cache_dir={tmp_path / 'cache'}"]
    result = CliRunner().invoke(cli, ["run", "baseline", "--dataset", "synthetic", "--output", str(out), *options, *TINY_SET],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"market"}
    assert metrics["market"]["best_epoch"] in (1, 2)
    assert {"rank1", "mAP", "mINP"} <= set(metrics["market"]["last"])
    assert "baseline" in (out / "config.toml").read_text()

    evaluated = CliRunner().invoke(
        cli, ["eval", "baseline", "--checkpoint", str(out / "checkpoints" / "best.pt"), *options],
        catch_exceptions=False,
    )
    assert evaluated.exit_code == 0, evaluated.output
    results = json.loads(evaluated.output[evaluated.output.index("{"):])
    assert results["market"]["rank1"] == pytest.approx(metrics["market"]["best"]["rank1"])
    assert results["market"]["mAP"] == pytest.approx(metrics["market"]["best"]["mAP"])
