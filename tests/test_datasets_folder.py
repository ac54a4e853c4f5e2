"""The ``folder`` format: a user's own data as Market-style names in three folders, or a CSV."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reid_core.datasets.base import DatasetError
from reid_core.datasets.fixtures import write_layout
from reid_core.plugins import get_registry


def folder(root: Path | None, **options: str):
    return get_registry("datasets").create("folder", None if root is None else str(root), **options)


@pytest.fixture
def market(tmp_path: Path) -> tuple[Path, dict]:
    stats = write_layout("market1501", tmp_path / "m", ids=4, seed=0)
    return tmp_path / "m" / "Market-1501-v15.09.15", stats


def test_market_style_folders(market: tuple[Path, dict], tmp_path: Path) -> None:
    src, stats = market
    for name, sub in (("train", "bounding_box_train"), ("query", "query"), ("gallery", "bounding_box_test")):
        shutil.copytree(src / sub, tmp_path / "mine" / name)
    ds = folder(tmp_path / "mine")
    assert ds.stats() == stats  # junk -1 dropped, distractors kept, Thumbs.db ignored
    assert folder(src).stats() == stats  # bounding_box_* names are accepted too
    assert [e.protocol for e in ds.evaluations] == ["market"]
    assert all(s.relpath.split("/")[0] in ("train", "query", "gallery") for s in ds.train + ds.query)


def _csv_rows(src: Path) -> list[tuple[str, str, int, int, str]]:
    rows = []
    for split, sub in (("train", "bounding_box_train"), ("query", "query"), ("gallery", "bounding_box_test")):
        for p in sorted((src / sub).glob("*.jpg")):
            pid, cam = int(p.name.split("_")[0]), int(p.name.split("_")[1][1])
            rows.append((split, f"{sub}/{p.name}", pid, cam - 1, f"{pid}-{cam % 2}"))
    return rows


def test_csv_file_with_split_column(market: tuple[Path, dict]) -> None:
    src, stats = market
    rows = _csv_rows(src)
    (src / "data.csv").write_text(
        "path,pid,camid,clothes_id,split\n" + "".join(f"{r},{p},{c},{k},{s}\n" for s, r, p, c, k in rows)
    )
    ds = folder(src, csv="data.csv")
    got = ds.stats()
    for split in ("train", "query", "gallery"):
        assert {k: got[split][k] for k in ("ids", "images", "cameras")} == {
            k: stats[split][k] for k in ("ids", "images", "cameras")
        }
    train_clothes = {k for s, _, p, _, k in rows if s == "train" and p != -1}
    assert got["train"]["clothes"] == len(train_clothes)
    assert sorted({s.clothes_id for s in ds.train}) == list(range(len(train_clothes)))
    assert [e.protocol for e in ds.evaluations] == ["market", "cloth-changing"]


def test_csv_folder_positional_columns(market: tuple[Path, dict], tmp_path: Path) -> None:
    src, stats = market
    lists = tmp_path / "lists"
    lists.mkdir()
    for split in ("train", "query", "gallery"):
        (lists / f"{split}.csv").write_text(
            "".join(f"{src / r},{p},{c}\n" for s, r, p, c, _ in _csv_rows(src) if s == split)
        )
    ds = folder(None, csv=str(lists))  # absolute paths, no --root
    assert ds.stats() == stats


def test_csv_errors(market: tuple[Path, dict]) -> None:
    src, _ = market
    some = next((src / "query").glob("*.jpg")).name
    (src / "bad.csv").write_text(
        f"path,pid,camid,split\n../../outside.jpg,1,0,train\nquery/{some},1,0,query\n"
    )
    with pytest.raises(DatasetError, match=r"bad.csv line 2 points outside the root"):
        folder(src, csv="bad.csv")
    (src / "nosplit.csv").write_text(f"path,pid,camid\nquery/{some},1,0\n")
    with pytest.raises(DatasetError, match=r"needs a split column"):
        folder(src, csv="nosplit.csv")
    (src / "pid.csv").write_text(f"path,pid,camid,split\nquery/{some},one,0,query\n")
    with pytest.raises(DatasetError, match=r"pid.csv line 2: pid and camid must be integers"):
        folder(src, csv="pid.csv")
    (src / "cols.csv").write_text(f"path,person,camid\nquery/{some},1,0\n")
    with pytest.raises(DatasetError, match=r"expected columns path, pid, camid"):
        folder(src, csv="cols.csv")
    with pytest.raises(DatasetError, match=r"neither a CSV file nor a folder"):
        folder(src, csv="missing.csv")
    with pytest.raises(DatasetError, match=r"needs --root \(or --option csv=FILE\)"):
        folder(None)
