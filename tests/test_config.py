"""Configuration: precedence, conversion, unknown keys and the TOML round trip."""

from __future__ import annotations

import types
from pathlib import Path

import attrs
import pytest

from reid_core import Method, hookimpl
from reid_core import config as cfg
from reid_core.resolve import resolve_run_config
from reid_core.testing import active_plugin_manager, plugin_manager_with


@attrs.frozen
class OptimSection:
    lr: float = 3.5e-4
    milestones: tuple[int, ...] = (40, 70)


@attrs.frozen
class ToyConfig:
    epochs: int = 120
    backbone: str = "resnet50"
    center_loss: bool = False
    optim: OptimSection = attrs.field(factory=OptimSection)


class ToyMethod(Method):
    name = "toy"
    config_class = ToyConfig
    profiles = {
        "paper": {"data": {"height": 256}},
        "quick": {"data": {"height": 64, "width": 32}, "toy": {"epochs": 2, "backbone": "resnet18"}},
    }
    default_dataset = "toy-data"

    def setup_stage(self, stage):  # pragma: no cover - not trained here
        ...

    def train_loaders(self, stage):  # pragma: no cover
        return {}

    def training_step(self, batch, step):  # pragma: no cover
        return {}

    def extract_features(self, batch):  # pragma: no cover
        return batch


@pytest.fixture
def toy_registry():
    @hookimpl
    def reid_register_datasets(register):
        register("toy-data", lambda root, **options: None)
        register("market-like", lambda root, **options: None)

    with active_plugin_manager(plugin_manager_with(types.SimpleNamespace(reid_register_datasets=reid_register_datasets))):
        yield


def test_precedence_defaults_profile_file_set_flags(tmp_path: Path, toy_registry: None) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text('[toy]\nepochs = 7\nbackbone = "resnet34"\n[data]\nwidth = 48\n')
    config = resolve_run_config(
        ToyMethod, config_file=str(toml), sets=["toy.backbone=resnet101", "toy.optim.milestones=[5, 9]"], seed=4
    )
    assert config.data.dataset == "toy-data"  # the method's default data set
    assert config.data.height == 64  # quick profile (no real dataset)
    assert config.data.width == 48  # file beats profile
    assert config.toy.epochs == 7  # file beats profile
    assert config.toy.backbone == "resnet101"  # --set beats file
    assert config.toy.optim.milestones == (5, 9)
    assert config.train.seed == 4  # explicit flag beats everything
    assert config.toy.optim.lr == 3.5e-4  # default


def test_paper_profile_with_a_real_dataset(toy_registry: None) -> None:
    config = resolve_run_config(ToyMethod, dataset="market-like", root="/data")
    assert config.data.height == 256 and config.toy.epochs == 120 and config.data.root == "/data"


def test_set_values_are_converted_to_the_field_type(toy_registry: None) -> None:
    config = resolve_run_config(
        ToyMethod, sets=["toy.center_loss=true", "toy.optim.lr=1e-3", "train.grad_clip=5", "data.options.variant=detected"]
    )
    assert config.toy.center_loss is True
    assert config.toy.optim.lr == pytest.approx(1e-3)
    assert isinstance(config.train.grad_clip, float)
    assert config.data.options == {"variant": "detected"}


def test_unknown_key_suggests_the_nearest(toy_registry: None) -> None:
    with pytest.raises(cfg.ConfigError, match=r"unknown config key 'toy.optim.lrr'.*Did you mean 'toy.optim.lr'"):
        resolve_run_config(ToyMethod, sets=["toy.optim.lrr=0.1"])
    with pytest.raises(cfg.ConfigError, match=r"'trian'.*Did you mean 'train'"):
        resolve_run_config(ToyMethod, sets=["trian.seed=1"])


def test_unknown_key_in_a_file_names_the_file(tmp_path: Path, toy_registry: None) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text("[toy]\nepochz = 3\n")
    with pytest.raises(cfg.ConfigError, match=r"toy.epochz.*Did you mean 'toy.epochs'.*bad.toml"):
        resolve_run_config(ToyMethod, config_file=str(toml))


def test_bad_values_name_the_key(toy_registry: None) -> None:
    with pytest.raises(cfg.ConfigError, match="toy.epochs must be an integer"):
        resolve_run_config(ToyMethod, sets=["toy.epochs=many"])
    with pytest.raises(cfg.ConfigError, match="amp must be one of"):
        resolve_run_config(ToyMethod, sets=["train.amp=fp8"])
    with pytest.raises(cfg.ConfigError, match="batch_size must be > 0"):
        resolve_run_config(ToyMethod, sets=["data.batch_size=0"])
    with pytest.raises(cfg.ConfigError, match="expects key=value"):
        resolve_run_config(ToyMethod, sets=["toy.epochs"])


def test_unknown_profile_and_dataset(toy_registry: None) -> None:
    with pytest.raises(cfg.ConfigError, match="no profile 'quik'.*Did you mean 'quick'"):
        resolve_run_config(ToyMethod, profile="quik")
    with pytest.raises(KeyError, match="unknown dataset 'market-lik'.*Did you mean 'market-like'"):
        resolve_run_config(ToyMethod, dataset="market-lik")


def test_toml_round_trip(toy_registry: None) -> None:
    config = resolve_run_config(ToyMethod, sets=["data.options.variant=detected", 'toy.backbone="a \\"quoted\\" name"'])
    text = cfg.dumps_toml(config)
    again = cfg.loads_toml(type(config), text)
    assert again == config
    assert "[toy.optim]" in text and "[train]" in text


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[toy\n")
    with pytest.raises(cfg.ConfigError, match="broken.toml.*not valid TOML"):
        cfg.load_toml(bad)
