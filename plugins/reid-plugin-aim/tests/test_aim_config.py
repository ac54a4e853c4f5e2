"""AIM's config defaults, profiles, overrides and registration."""

from __future__ import annotations

import pytest
from reid_plugin_aim import plugin
from reid_plugin_aim.config import PROFILES, AIMConfig
from reid_plugin_aim.method import AIM

from reid_core import config as cfg
from reid_core.testing import assert_plugin_contract, plugin_manager_with


def resolve(*layers: dict) -> object:
    return cfg.resolve(cfg.run_config_class("aim", AIMConfig), *layers)


def test_defaults_are_the_official_recipe() -> None:
    c = AIMConfig()
    assert (c.backbone, c.pretrained, c.last_stride) == ("resnet50", "imagenet", 1)
    assert (c.epochs, c.lr, c.weight_decay, c.milestones, c.gamma) == (100, 3.5e-4, 5e-4, (20, 40), 0.1)
    assert (c.start_epoch, c.k_cal, c.k_kl, c.k_adv) == (25, 1.0, 1.0, 1.0)
    assert (c.s, c.epsilon, c.pair_loss_weight, c.pair_margin) == (16.0, 0.1, 0.0, 0.3)
    assert (c.part_dim, c.attention_maps) == (256, 8)


def test_paper_profile_is_384x192_with_a_global_batch_of_2_x_4_ids_x_8_images() -> None:
    run = resolve(PROFILES["paper"])
    assert (run.data.height, run.data.width) == (384, 192)
    assert (run.data.batch_size, run.data.num_instances) == (64, 8)  # the official 2 GPUs x 32
    assert run.train.amp == "off"
    assert run.aim == AIMConfig()


def test_quick_profile_is_small_and_turns_the_aim_terms_on() -> None:
    run = resolve(PROFILES["quick"])
    assert run.aim.backbone == "resnet18" and run.aim.pretrained == "none"
    assert run.aim.start_epoch < run.aim.epochs  # the AIM terms actually run
    assert run.data.height * run.data.width <= 64 * 32
    assert run.data.batch_size % run.data.num_instances == 0


def test_set_overrides_and_errors_name_the_key() -> None:
    run = resolve(PROFILES["quick"], cfg.parse_set(["aim.k_kl=0.5", "aim.milestones=[3, 5]"]))
    assert run.aim.k_kl == 0.5 and run.aim.milestones == (3, 5)
    with pytest.raises(cfg.ConfigError, match=r"aim\.k_kll"):
        resolve(cfg.parse_set(["aim.k_kll=0.5"]))
    with pytest.raises(cfg.ConfigError, match="epsilon"):
        resolve(cfg.parse_set(["aim.epsilon=1.5"]))
    with pytest.raises(cfg.ConfigError, match="milestones"):
        resolve(cfg.parse_set(["aim.milestones=[40, 20]"]))


def test_config_round_trips_through_toml() -> None:
    run = resolve(PROFILES["paper"], cfg.parse_set(["aim.k_cal=0.5"]))
    text = cfg.dumps_toml(run)
    assert "[aim]" in text
    assert cfg.loads_toml(type(run), text) == run


def test_plugin_registers_the_aim_method_and_keeps_the_contract() -> None:
    assert_plugin_contract(plugin, name="reid-plugin-aim")  # names, description, frozen config, profiles
    manager = plugin_manager_with(plugin, name="reid-plugin-aim")
    entry = manager.registry("methods").get("aim")
    assert entry.factory is AIM
    assert "CVPR 2023" in entry.description
