"""Cross-domain runs: ``--source`` trains on a labelled source data set and adapts to / evaluates
on the target, whose identity labels never reach the method."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from click.testing import CliRunner
from engine_support import Dummy, EnginePlugin, make_config, one_thread, tiny_dataset

from reid_core.cli import build_cli
from reid_core.datasets import CrossDomainDataset, DatasetError, require_cross_domain
from reid_core.engine import train_run
from reid_core.engine.setup import load_dataset
from reid_core.hookspecs import hookimpl
from reid_core.methods.base import Stage, StepContext
from reid_core.resolve import resolve_run_config
from reid_core.testing import active_plugin_manager, plugin_manager_with

_one_thread = pytest.fixture(autouse=True)(one_thread)


class LabelSpy(Dummy):
    """Trains like Dummy on the source and also loads the target; asserts no target label is seen."""

    name = "label-spy"
    seen: ClassVar[dict[str, Any]] = {}

    def setup_stage(self, stage: Stage) -> None:
        data = require_cross_domain(self.ctx.dataset, self.name)
        assert all(s.pid == -1 and s.clothes_id is None for s in data.target_train)
        LabelSpy.seen["source_paths"] = {s.path for s in data.train}
        LabelSpy.seen["target_paths"] = {s.path for s in data.target_train}
        LabelSpy.seen["target_batches"] = 0
        super().setup_stage(stage)

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        loaders = super().train_loaders(stage)
        target = self.ctx.dataset.target_train
        loaders["target"] = self.ctx.train_loader(target, sampler="random", batch_size=4)
        return loaders

    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        assert torch.all(batch["target"]["pid"] == -1), "a target identity label reached the method"
        LabelSpy.seen["target_batches"] += 1
        return super().training_step({"train": batch["train"]}, step)


class CrossPlugin(EnginePlugin):
    """The engine test plugin plus a second tiny data set (the source) and the spy method."""

    @hookimpl
    def reid_register_datasets(self, register: Any) -> None:
        register("tiny", lambda root, **options: tiny_dataset(self.root), description="target")
        register("tiny-src", lambda root, **options: tiny_dataset(self.root.parent / "src"), description="source")

    @hookimpl
    def reid_register_methods(self, register: Any) -> None:
        register("dummy", Dummy, description="engine test method")
        register("label-spy", LabelSpy, description="asserts that no target label is seen")


@pytest.fixture
def manager(tmp_path: Path):
    manager = plugin_manager_with(CrossPlugin(tmp_path / "data"), name="cross-test")
    with active_plugin_manager(manager):
        yield manager


def test_target_labels_never_reach_the_method(manager: Any, tmp_path: Path) -> None:
    config = make_config(LabelSpy, data={"source": "tiny-src"}, label_spy={"epochs": 1})
    metrics = train_run(LabelSpy, config, output_dir=tmp_path / "run", resume=False)
    seen = LabelSpy.seen
    assert seen["target_batches"] > 0
    assert all("/src/" in p for p in seen["source_paths"]) and all("/data/" in p for p in seen["target_paths"])
    assert "test-eval" in metrics  # evaluated with the target's protocol


def test_without_a_source_a_domain_adaptive_method_says_how_to_name_one(manager: Any, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="--source NAME"):
        train_run(LabelSpy, make_config(LabelSpy, label_spy={"epochs": 1}), output_dir=tmp_path / "run", resume=False)


def test_cli_source_flags_give_direct_transfer(manager: Any, tmp_path: Path) -> None:
    out = tmp_path / "run"
    sets = ["data.height=32", "data.width=16", "data.batch_size=8", "data.num_instances=2", "data.num_workers=0",
            "train.device=cpu", "dummy.epochs=1"]
    args = ["run", "dummy", "--dataset", "tiny", "--source", "tiny-src", "--output", str(out)]
    result = CliRunner().invoke(build_cli(manager), args + [f"--set={s}" for s in sets])
    assert result.exit_code == 0, result.output
    assert 'source = "tiny-src"' in (out / "config.toml").read_text()
    assert "test-eval" in json.loads((out / "metrics.json").read_text())
    bad = CliRunner().invoke(build_cli(manager), ["run", "dummy", "--dataset", "tiny", "--source", "tiny-sr"])
    assert bad.exit_code == 1 and "Error:" in bad.output and "Did you mean 'tiny-src'" in bad.output


def test_source_root_defaults_to_root_and_toml_names_the_source(manager: Any, tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text('[data]\nsource = "tiny-src"\nsource_options = { variant = "x" }\n')
    config = resolve_run_config(Dummy, dataset="tiny", root="/r", config_file=str(toml))
    assert (config.data.source, config.data.source_root, config.data.source_options) == ("tiny-src", "", {"variant": "x"})
    flags = resolve_run_config(Dummy, dataset="tiny", root="/r", source="tiny-src", source_root="/s")
    assert flags.data.source_root == "/s"


def test_synthetic_a_to_b_is_a_source_target_pair(tmp_path: Path) -> None:
    small = {"ids": "3", "test_ids": "2", "images": "1", "height": "32", "width": "16", "cache_dir": str(tmp_path)}
    config = make_config(Dummy, data={"dataset": "synthetic-b", "source": "synthetic-a", "options": small,
                                      "source_options": small})
    data = load_dataset(config)
    assert isinstance(data, CrossDomainDataset) and data.source_name == "synthetic-a"
    assert {s.domain for s in data.train} == {"a"} and {s.pid for s in data.train} == {0, 1, 2}
    assert {s.domain for s in data.target_train} == {"b"} and {s.pid for s in data.target_train} == {-1}
    assert {s.domain for s in data.query + data.gallery} == {"b"}
    assert data.num_target_cams > 2 and data.stats()["target_train"]["ids"] == 1
