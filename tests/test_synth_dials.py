"""The generator dials: ``outfit_lock`` (synthetic-cc) and ``camera_style``; off by default, data unchanged."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reid_core.datasets.base import DatasetError
from reid_core.datasets.synthetic.cache import cache_key
from reid_core.datasets.synthetic.presets import parse_options
from reid_core.plugins import get_registry

TINY = {"ids": "6", "test_ids": "3", "images": "1", "height": "32", "width": "16"}


def _make(name: str, tmp_path: Path, **options: str):
    return get_registry("datasets").create(name, None, cache_dir=str(tmp_path), **{**TINY, **options})


def _pixels(path: str) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img, dtype=np.float32)


def test_dials_at_zero_leave_the_parameters_and_the_cache_key_unchanged() -> None:
    base = parse_options("synthetic-cc", dict(TINY))
    zero = parse_options("synthetic-cc", {**TINY, "outfit_lock": "0", "camera_style": "0.0"})
    assert zero == base and "outfit_lock" not in base and "camera_style" not in base
    assert cache_key(zero) == cache_key(base)
    assert cache_key(parse_options("synthetic-cc", {**TINY, "outfit_lock": "0.5"})) != cache_key(base)


def test_outfit_lock_one_gives_every_training_identity_one_outfit(tmp_path: Path) -> None:
    free = _make("synthetic-cc", tmp_path, images="2")
    locked = _make("synthetic-cc", tmp_path, images="2", outfit_lock="1")
    for ds, expected in ((free, 3), (locked, 1)):
        clothes = defaultdict(set)
        for s in ds.train:
            clothes[s.pid].add(s.clothes_id)
        assert {len(v) for v in clothes.values()} == {expected}
    # test identities still change clothes, and the test split is the same images
    assert [s.relpath for s in locked.query] == [s.relpath for s in free.query]
    assert len({s.clothes_id for s in locked.gallery}) == len({s.clothes_id for s in free.gallery}) > 3


def test_outfit_lock_fraction_locks_some_identities(tmp_path: Path) -> None:
    ds = _make("synthetic-cc", tmp_path, ids="40", images="2", outfit_lock="0.5")
    clothes = defaultdict(set)
    for s in ds.train:
        clothes[s.pid].add(s.clothes_id)
    locked = sum(len(v) == 1 for v in clothes.values())
    assert 10 <= locked <= 30


def test_camera_style_mixes_each_image_with_its_camera_tint(tmp_path: Path) -> None:
    plain = _make("synthetic", tmp_path)
    styled = _make("synthetic", tmp_path, camera_style="0.5")
    assert [s.relpath for s in styled.train] == [s.relpath for s in plain.train]
    tints = {}
    for a, b in zip(plain.train, styled.train):
        tint = (_pixels(b.path) - 0.5 * _pixels(a.path)) / 0.5  # styled = 0.5 image + 0.5 tint (rounded)
        assert float(np.ptp(tint, axis=(0, 1)).max()) <= 4.0  # one colour per image, up to rounding
        tints.setdefault(a.camid, []).append(tint.mean(axis=(0, 1)))
    for values in tints.values():  # one tint per camera
        assert np.abs(np.array(values) - values[0]).max() <= 2.0
    assert len({tuple(np.round(v[0])) for v in tints.values()}) == len(tints)


def test_images_of_one_camera_look_more_alike_with_camera_style(tmp_path: Path) -> None:
    def camera_share(ds) -> float:
        means = np.stack([_pixels(s.path).mean(axis=(0, 1)) for s in ds.train])
        cams = np.array([s.camid for s in ds.train])
        within = np.mean([means[cams == c].var(axis=0).sum() for c in np.unique(cams)])
        return float(1 - within / means.var(axis=0).sum())  # share of colour variance explained by camera

    shares = [camera_share(_make("synthetic", tmp_path, camera_style=v)) for v in ("0", "0.3", "0.6")]
    assert shares[0] + 0.1 < shares[1] < shares[2]  # measured: 0.69, 0.87, 0.98


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("synthetic-cc", {"outfit_lock": "2"}, r"outfit_lock=2.0 must be in \[0, 1\]"),
        ("synthetic-cc", {"camera_style": "lots"}, r"camera_style='lots' is not a number"),
        ("synthetic", {"outfit_lock": "0.5"}, r"unknown option 'outfit_lock'"),
    ],
)
def test_bad_dial_values_name_the_option(tmp_path: Path, name: str, options: dict, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        _make(name, tmp_path, **options)
