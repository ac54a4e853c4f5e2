"""``--root`` may be the parent folder, the data set's own folder, or torchreid's layout with an
extra lower-case folder; and a root path that looks like a file name changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from reid_core.datasets.base import DatasetError
from reid_core.datasets.catalog import PARSERS
from reid_core.datasets.fixtures import FORMATS, write_layout


def parse(fmt: str, root: Path | str, **options: str):
    return PARSERS[fmt][0](str(root), **options)


def labels(ds) -> list[tuple]:
    return [
        (name, s.relpath, s.pid, s.camid, s.clothes_id, s.modality)
        for name in ds.split_names()
        for s in ds.split(name)
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_own_folder_and_torchreid_layout(fmt: str, tmp_path: Path) -> None:
    expected = write_layout(fmt, tmp_path / "plain", ids=4, seed=0)
    own = parse(fmt, tmp_path / "plain")
    assert own.stats() == expected
    assert parse(fmt, own.root).stats() == expected  # the data set's folder itself
    write_layout(fmt, tmp_path / "tr" / fmt, ids=4, seed=0)  # torchreid: <root>/<name>/<folder>
    assert labels(parse(fmt, tmp_path / "tr")) == labels(own)


@pytest.mark.parametrize("fmt", FORMATS)
def test_basename_only(fmt: str, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    weird = tmp_path / "0007_c3_1_c12_" / "data_cache" / "run_2" / "x1"
    write_layout(fmt, clean, ids=4, seed=0)
    write_layout(fmt, weird, ids=4, seed=0)
    assert labels(parse(fmt, weird)) == labels(parse(fmt, clean))


def test_duke_torchreid_alias(tmp_path: Path) -> None:
    expected = write_layout("dukemtmcreid", tmp_path / "dukemtmc-reid", ids=4, seed=0)
    assert parse("dukemtmcreid", tmp_path).stats() == expected


def test_prcc_folder_and_rgb_folder(tmp_path: Path) -> None:
    expected = write_layout("prcc", tmp_path, ids=4, seed=0)
    assert parse("prcc", tmp_path / "prcc").stats() == expected
    assert parse("prcc", tmp_path / "prcc" / "rgb").stats() == expected


def test_cuhk03_variant_folder_as_root(tmp_path: Path) -> None:
    write_layout("cuhk03", tmp_path, ids=4, seed=0)
    detected = write_layout("cuhk03", tmp_path / "again", ids=4, seed=0, options={"variant": "detected"})
    assert parse("cuhk03", tmp_path / "cuhk03-np" / "detected").stats() == detected
    assert parse("cuhk03", tmp_path / "cuhk03-np").stats() == parse("cuhk03", tmp_path).stats()
    with pytest.raises(DatasetError, match="is the detected folder but variant=labeled"):
        parse("cuhk03", tmp_path / "cuhk03-np" / "detected", variant="labeled")
