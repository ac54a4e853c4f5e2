"""Samplers as a plugin hook (``reid_register_samplers``), sampler options, ``drop_last`` and the
train transform's pad fill and colour jitter."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from reid_core.data import EpochSampler, build_sampler, build_train_transform
from reid_core.data.samplers import SAMPLER_KINDS, ModalityBalancedSampler
from reid_core.hookspecs import hookimpl
from reid_core.plugins import ReidPluginManager
from reid_core.testing import active_plugin_manager, plugin_manager_with


class EveryNth(EpochSampler):
    """Indices ``offset, offset + step, ...`` in a seeded order (a toy plugin sampler)."""

    def __init__(self, n: int, step: int, offset: int, **dist: Any) -> None:
        super().__init__(**dist)
        self.n, self.step, self.offset = n, step, offset

    def _blocks(self, rng: np.random.Generator) -> list[list[int]]:
        picked = list(range(self.offset, self.n, self.step))
        return [[picked[i]] for i in rng.permutation(len(picked))]


def _nth_factory(*, pids: list[int], seed: int, rank: int, world_size: int, step: int = 2, offset: int = 0):
    return EveryNth(len(pids), step, offset, seed=seed, rank=rank, world_size=world_size)


def _plugin() -> types.SimpleNamespace:
    def reid_register_samplers(register):
        register("every-nth", _nth_factory, description="every n-th sample")

    return types.SimpleNamespace(reid_register_samplers=hookimpl(reid_register_samplers))


def test_core_samplers_register_through_the_hook() -> None:
    registry = ReidPluginManager(entry_points=False).registry("samplers")
    assert set(registry.names()) == set(SAMPLER_KINDS)
    assert {registry.get(k).plugin for k in SAMPLER_KINDS} == {"core.samplers"}


def test_a_plugin_sampler_is_built_with_its_options() -> None:
    manager = plugin_manager_with(_plugin(), name="nth")
    assert manager.registry("samplers").get("every-nth").plugin == "nth"
    with active_plugin_manager(manager):
        s = build_sampler("every-nth", pids=[0] * 10, batch_size=2, num_instances=1, options={"step": 3, "offset": 1})
        assert sorted(s) == [1, 4, 7]
        with pytest.raises(ValueError, match=r"'every-nth'.*does not accept option\(s\) colour.*step, offset"):
            build_sampler("every-nth", pids=[0] * 10, batch_size=2, num_instances=1, options={"colour": 1})
        with pytest.raises(ValueError, match="Did you mean 'every-nth'"):
            build_sampler("every-nht", pids=[0] * 10, batch_size=2, num_instances=1)


def test_core_modality_sampler_takes_infrared_first_as_an_option() -> None:
    pids = [0] * 4 + [1] * 4
    mods = ["visible", "visible", "infrared", "infrared"] * 2
    s = build_sampler("modality", pids=pids, modalities=mods, batch_size=4, num_instances=4,
                      options={"infrared_first": True})
    assert isinstance(s, ModalityBalancedSampler) and s.infrared_first
    assert [mods[i] for i in list(s)[:4]] == ["infrared", "infrared", "visible", "visible"]
    with pytest.raises(ValueError, match="needs modalities"):
        build_sampler("modality", pids=pids, batch_size=4, num_instances=4)


def test_train_loader_passes_sampler_options_and_drop_last(tmp_path: Path) -> None:
    from engine_support import make_config, tiny_dataset

    from reid_core.engine.context import RunContext
    from reid_core.engine.distributed import DistInfo

    dataset = tiny_dataset(tmp_path / "data")  # 36 training images
    config = make_config(data={"batch_size": 4})
    ctx = RunContext(config, dataset, DistInfo(), tmp_path)
    with active_plugin_manager(plugin_manager_with(_plugin(), name="nth")):
        loader = ctx.train_loader(dataset.train, sampler="every-nth", sampler_options={"step": 7}, drop_last=False)
        sizes = [len(b["index"]) for b in loader]
        indices = sorted(int(i) for b in loader for i in b["index"])
        assert indices == list(range(0, 36, 7)) and sizes == [4, 2] and len(loader) == 2
        loader.drop_last = True
        assert [len(b["index"]) for b in loader] == [4] and len(loader) == 1
        loader.drop_last = False
        loader.set_epoch(1)
        assert sorted(int(i) for b in loader for i in b["index"]) == list(range(0, 36, 7))
        default = ctx.train_loader(dataset.train, sampler="every-nth", sampler_options={"step": 7})
        assert default.drop_last and len(default) == 1


def test_train_transform_pad_fill_and_colour_jitter() -> None:
    img = Image.new("RGB", (8, 16), (0, 0, 0))
    torch.manual_seed(0)
    padded = build_train_transform(16, 8, pad=8, pad_fill=127, flip_p=0, erasing_p=0, mean=(0, 0, 0), std=(1, 1, 1))
    values = set()
    for _ in range(8):
        values |= {round(v * 255) for v in torch.unique(padded(img)).tolist()}
    assert values == {0, 127}  # the image's black and (in some crops) the padding
    zero = build_train_transform(16, 8, pad=8, flip_p=0, erasing_p=0, mean=(0, 0, 0), std=(1, 1, 1))
    assert torch.all(zero(img) == 0)
    grey = Image.new("RGB", (8, 16), (100, 120, 140))
    jitter = build_train_transform(16, 8, pad=0, flip_p=0, erasing_p=0, color_jitter=(0.4, 0.4, 0.4, 0.0))
    plain = build_train_transform(16, 8, pad=0, flip_p=0, erasing_p=0)
    assert not torch.allclose(jitter(grey), plain(grey))
    with pytest.raises(ValueError, match="color_jitter"):
        build_train_transform(16, 8, color_jitter=(0.1, 0.2))
