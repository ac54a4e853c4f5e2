"""The synthetic presets: statistics, protocols, option errors and the image cache."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reid_core.datasets.base import DatasetError
from reid_core.plugins import get_registry

TINY = {"ids": "3", "images": "1", "height": "32", "width": "16"}


def _make(name: str, tmp_path: Path, **options: str):
    return get_registry("datasets").create(name, None, cache_dir=str(tmp_path), **{**TINY, **options})


def test_presets_are_registered() -> None:
    names = set(get_registry("datasets").names())
    assert {"synthetic", "synthetic-cc", "synthetic-ir", "synthetic-a", "synthetic-b"} <= names


def test_market_like_preset(tmp_path: Path) -> None:
    ds = _make("synthetic", tmp_path, ids="4", test_ids="3", images="2")
    st = ds.stats()
    assert st["train"]["ids"] == 4 and st["query"]["ids"] == 3 and st["gallery"]["ids"] == 3
    assert sorted({s.pid for s in ds.train}) == [0, 1, 2, 3]
    assert {s.pid for s in ds.query} == {4, 5, 6}  # raw test pids, disjoint from train
    assert st["train"]["cameras"] > 2 and all(0 <= s.camid < 6 for s in ds.train)
    assert st["train"]["clothes"] is None and st["train"]["modalities"] == ["visible"]
    assert [e.protocol for e in ds.evaluations] == ["market"]
    assert not {s.path for s in ds.query} & {s.path for s in ds.gallery}
    for q in ds.query:  # every query has a gallery match in another camera
        assert any(g.pid == q.pid and g.camid != q.camid for g in ds.gallery)
    s = ds.train[0]
    assert Path(s.path).is_absolute() and s.path.endswith(s.relpath) and s.domain == "a"
    assert len(s.keypoints) == 17 and all(len(k) == 3 for k in s.keypoints)
    with Image.open(s.path) as img:
        assert img.size == (16, 32) and img.mode == "RGB"


def test_cloth_changing_preset_has_cross_outfit_matches(tmp_path: Path) -> None:
    ds = _make("synthetic-cc", tmp_path, outfits="3", images="2")
    st = ds.stats()
    assert st["train"]["clothes"] == 9 and sorted({s.clothes_id for s in ds.train}) == list(range(9))
    assert [e.protocol for e in ds.evaluations] == ["cloth-changing", "standard", "same-clothes"]
    for q in ds.query:
        assert any(g.pid == q.pid and g.camid != q.camid and g.clothes_id != q.clothes_id for g in ds.gallery)
        assert any(g.pid == q.pid and g.camid != q.camid and g.clothes_id == q.clothes_id for g in ds.gallery)
    # clothes ids of different persons never collide
    assert len({(s.pid, s.clothes_id) for s in ds.train}) == len({s.clothes_id for s in ds.train})


def test_infrared_preset(tmp_path: Path) -> None:
    ds = _make("synthetic-ir", tmp_path)
    st = ds.stats()
    assert st["train"]["modalities"] == ["infrared", "visible"]
    assert st["query"]["modalities"] == ["infrared"] and st["gallery"]["modalities"] == ["visible"]
    assert st["query_visible"]["modalities"] == ["visible"] and st["gallery_infrared"]["modalities"] == ["infrared"]
    assert {s.camid for s in ds.query} == {2, 5}
    assert [(e.protocol, e.key) for e in ds.evaluations] == [("regdb", "ir-to-visible"), ("regdb", "visible-to-ir")]
    arr = np.asarray(Image.open(ds.query[0].path))
    assert np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 1], arr[..., 2])


def test_two_domains_and_cross_domain_testing(tmp_path: Path) -> None:
    a = _make("synthetic-a", tmp_path)
    b = _make("synthetic-b", tmp_path)
    assert {s.domain for s in a.train} == {"a"} and {s.domain for s in b.train} == {"b"}
    assert b.stats()["train"]["cameras"] > 6  # domain b has its own, larger camera set
    ab = _make("synthetic-a", tmp_path, test_domain="b")
    assert {s.domain for s in ab.train} == {"a"} and {s.domain for s in ab.query + ab.gallery} == {"b"}
    assert Image.open(a.train[0].path).tobytes() != Image.open(b.train[0].path).tobytes()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"colour": "red"}, "unknown option 'colour'"),
        ({"ids": "many"}, "option ids='many' is not an integer"),
        ({"cameras": "1"}, "option cameras=1 must be >= 2"),
        ({"test_domain": "z"}, "option test_domain='z'"),
    ],
)
def test_bad_options_name_the_option(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        _make("synthetic", tmp_path, **options)


def test_bad_infrared_cameras(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="ir_cameras"):
        _make("synthetic-ir", tmp_path, ir_cameras="0,9")


def _images(ds) -> dict[str, bytes]:
    return {s.relpath: Path(s.path).read_bytes() for s in ds.train + ds.query + ds.gallery}


def test_cache_is_reused_and_rebuilt_after_damage(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ds = _make("synthetic", tmp_path)
    folder = Path(ds.root)
    assert folder.parent == tmp_path and (folder / "manifest.json").is_file()
    original = _images(ds)
    first = ds.train[0]
    mtime = Path(first.path).stat().st_mtime_ns

    again = _make("synthetic", tmp_path)  # reused: nothing rewritten
    assert again.root == ds.root and Path(first.path).stat().st_mtime_ns == mtime

    damages = [
        lambda: Path(first.path).write_bytes(Path(first.path).read_bytes()[:-7]),  # truncated file
        lambda: Path(first.path).write_bytes(b"x" * Path(first.path).stat().st_size),  # same size, bad bytes
        lambda: Path(first.path).unlink(),  # missing file
        lambda: (folder / "manifest.json").unlink(),  # interrupted build
        lambda: (folder / "manifest.json").write_text("{not json"),  # corrupted manifest
    ]
    for damage in damages:
        damage()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            rebuilt = _make("synthetic", tmp_path)
        assert "rebuilding" in caplog.text
        assert _images(rebuilt) == original
        manifest = json.loads((folder / "manifest.json").read_text())
        assert set(manifest["files"]) == set(original)


def test_cache_key_follows_the_options(tmp_path: Path) -> None:
    assert _make("synthetic", tmp_path).root != _make("synthetic", tmp_path, seed="1").root
    # identical generated content shares one cache: synthetic is domain a
    assert _make("synthetic", tmp_path).root == _make("synthetic-a", tmp_path).root


def test_same_options_give_identical_files(tmp_path: Path) -> None:
    one = _images(_make("synthetic-cc", tmp_path / "one"))
    two = _images(_make("synthetic-cc", tmp_path / "two"))
    assert one == two


def test_infrared_cameras_follow_the_camera_count(tmp_path: Path) -> None:
    ds = _make("synthetic-ir", tmp_path, cameras="2")
    assert {s.camid for s in ds.query} == {1} and {s.camid for s in ds.gallery} == {0}
