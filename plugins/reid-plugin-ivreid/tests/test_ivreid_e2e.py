"""End to end on ``reid synth`` trees: ivreid and agw train a few steps and evaluate SYSU-MM01's four
settings; a 2-trial RegDB run writes each trial and their mean (and resumes trial by trial)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from reid_plugin_ivreid.agw import AGW
from reid_plugin_ivreid.method import IVReID

from reid_core.cli import build_cli
from reid_core.datasets.fixtures import write_layout
from reid_core.engine import train_run
from reid_core.plugins import get_plugin_manager
from reid_core.resolve import resolve_run_config

pytestmark = pytest.mark.slow

SYSU_KEYS = {"sysu-all", "sysu-indoor", "sysu-all-multi", "sysu-indoor-multi"}


def tiny(method: str) -> list[str]:
    """One short epoch of a thin ResNet-18 on 32 x 16 images."""
    return [
        "data.height=32",
        "data.width=16",
        "data.batch_size=4",
        "data.num_instances=2",
        "data.eval_batch_size=32",
        f"{method}.width=8",
        f"{method}.epochs=1",
        "train.max_iters=2",
        "train.log_every=1",
    ]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(build_cli(get_plugin_manager()), list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def sysu_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sysu-root")
    write_layout("sysumm01", root, ids=6, seed=0)
    return root


@pytest.fixture(scope="module")
def regdb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("regdb-root")
    write_layout("regdb", root, ids=8, seed=0)
    return root


@pytest.mark.parametrize("method", [IVReID, AGW])
def test_sysu_four_settings(method: Any, sysu_root: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    sets = [*tiny(method.name), f"{method.name}.too_few=replace"]
    if method is AGW:  # two steps leave the non-local blocks' BN statistics far from settled: keep them small
        sets.append("agw.lr=0.001")
    config = resolve_run_config(method, dataset="sysumm01", root=str(sysu_root), profile="quick", sets=sets,
                                device="cpu")
    metrics = train_run(method, config, output_dir=tmp_path / "run")
    assert set(metrics) == SYSU_KEYS
    for key in SYSU_KEYS:
        last = metrics[key]["last"]
        assert last["trials"] == 10 and 0.0 <= last["rank1"] <= 100.0 and last["queries"] > 0
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["sysu-all"]["last"]["rank1"] == metrics["sysu-all"]["last"]["rank1"]


def test_paper_profile_sets_the_seed_per_data_set(sysu_root: Path, regdb_root: Path) -> None:
    sysu = resolve_run_config(IVReID, dataset="sysumm01", root=str(sysu_root))
    assert sysu.data.options == {"seed_base": "2019", "seed_step": "33"}
    assert (sysu.ivreid.margin, sysu.ivreid.kl_reduction) == (0.3, "batchmean")
    assert (sysu.data.height, sysu.data.width, sysu.data.batch_size, sysu.data.num_instances) == (384, 128, 64, 8)
    assert (sysu.ivreid.stem_relu, sysu.ivreid.conv_bias, sysu.train.seed) == (False, True, 2019)
    iv = sysu.ivreid  # the seed's .ini: Adam 1e-4 (heads 10x), wd 5e-4, 100 epochs, no schedule, 2048-d f_bn
    assert (iv.lr, iv.head_lr, iv.weight_decay, iv.epochs, iv.backbone, iv.last_stride) == (
        1e-4, 1e-3, 5e-4, 100, "resnet50", 1)
    from reid_core.engine.setup import load_dataset

    specs = load_dataset(sysu).evaluations
    assert [s.key for s in specs] == ["sysu-all", "sysu-indoor", "sysu-all-multi", "sysu-indoor-multi"]
    assert all((s.options["seed_base"], s.options["seed_step"], s.options["trials"]) == (2019, 33, 10) for s in specs)
    assert [s.options["shots"] for s in specs] == [1, 1, 10, 10]
    regdb = resolve_run_config(IVReID, dataset="regdb", root=str(regdb_root), sets=["ivreid.margin=0.25"])
    assert (regdb.ivreid.margin, regdb.ivreid.kl_reduction) == (0.25, "mean")  # --set beats the profile
    assert regdb.data.options == {"direction": "t2v"}  # the seed's direction is the main metric
    quick = resolve_run_config(IVReID)
    assert quick.data.dataset == "synthetic-ir" and (quick.ivreid.stem_relu, quick.ivreid.conv_bias) == (True, False)


def test_regdb_two_trials_and_their_mean(regdb_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "trials"
    args = ["run", "ivreid", "--dataset", "regdb", "--root", str(regdb_root), "--profile", "quick",
            "--device", "cpu", "--trials", "1-2", "--output", str(out)]
    for item in tiny("ivreid"):
        args += ["--set", item]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    parent = json.loads((out / "metrics.json").read_text())
    assert set(parent) == {"visible-to-thermal", "thermal-to-visible"}
    trials = [json.loads((out / f"trial-{k}" / "metrics.json").read_text()) for k in (1, 2)]
    assert [(out / f"trial-{k}" / "config.toml").read_text().count(f'trial = "{k}"') for k in (1, 2)] == [1, 1]
    for key, entry in parent.items():
        assert entry["trials"] == [1, 2]
        for which in ("last", "best"):
            for name in ("rank1", "mAP", "mINP"):
                values = [t[key][which][name] for t in trials]
                assert entry[which][name] == pytest.approx(sum(values) / 2)
                assert entry[f"{which}_std"][name] == pytest.approx(abs(values[0] - values[1]) / 2**0.5)
    again = invoke(*args)  # without --resume: refused, nothing overwritten
    assert again.exit_code != 0 and "--resume" in again.output
    resumed = invoke(*args, "--resume")  # finished trials are read back
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((out / "metrics.json").read_text()) == parent


def test_trials_dry_run_checks_the_first_trial_and_writes_nothing(regdb_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "dry"
    sets = [arg for item in tiny("ivreid") for arg in ("--set", item)]
    result = invoke("run", "ivreid", "--dataset", "regdb", "--root", str(regdb_root), "--profile", "quick",
                    "--device", "cpu", "--trials", "2-3", "--output", str(out), "--dry-run", *sets)
    assert result.exit_code == 0, result.output
    assert 'trial = "2"' in result.output and "trials [2, 3]" in result.output
    assert not out.exists()
    bad = invoke("run", "ivreid", "--dataset", "regdb", "--root", str(regdb_root), "--trials", "0-2")
    assert bad.exit_code != 0 and "--trials" in bad.output
