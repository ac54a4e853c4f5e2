"""Each user error names the path or file, what was expected and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reid_core.datasets.base import DatasetError
from reid_core.datasets.catalog import PARSERS
from reid_core.datasets.fixtures import write_layout


def parse(fmt: str, root: Path | str | None, **options: str):
    return PARSERS[fmt][0](None if root is None else str(root), **options)


@pytest.fixture
def market(tmp_path: Path) -> Path:
    write_layout("market1501", tmp_path, ids=4, seed=0)
    return tmp_path


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(
        DatasetError, match=r"needs --root.*Expected layout:\n  <root>/Market-1501-v15.09.15/"
    ):
        parse("market1501", None)
    with pytest.raises(
        DatasetError, match=r"(?s)does not exist.*bounding_box_train/  query/  bounding_box_test/"
    ):
        parse("market1501", tmp_path / "nowhere")
    with pytest.raises(DatasetError, match=r"(?s)cannot find LTCC_ReID/ under root .*Expected layout"):
        parse("ltcc", tmp_path)


def test_missing_split_folder(market: Path) -> None:
    shutil.rmtree(market / "Market-1501-v15.09.15" / "query")
    with pytest.raises(DatasetError, match=r"Market-1501-v15.09.15' lacks query\. Expected layout"):
        parse("market1501", market)


def test_missing_split_folder_of_folder_format(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "gallery").mkdir()
    with pytest.raises(DatasetError, match=r"(?s)no query folder \(query\) in .*Expected layout"):
        parse("folder", tmp_path)


def test_unparseable_name(market: Path) -> None:
    bad = market / "Market-1501-v15.09.15" / "query" / "holiday.jpg"
    shutil.copy(next((market / "Market-1501-v15.09.15" / "query").iterdir()), bad)
    with pytest.raises(
        DatasetError, match=r"cannot parse file name 'holiday.jpg' .*expected <pid>_c<cam>s<seq>"
    ):
        parse("market1501", market)


@pytest.mark.parametrize(
    ("fmt", "folder", "message"),
    [
        ("ltcc", "LTCC_ReID/query", r"'x.png'.*expected <pid>_<outfit>_c<cam>_<frame>\.png"),
        ("celebreid", "Celeb-reID/gallery", r"'x.png'.*expected <pid>_<n>_<\.\.\.>\.jpg"),
        ("last", "last/test/query", r"'x.png'.*first an integer person id"),
        ("personx", "PersonX/bounding_box_test", r"'x.png'.*cam in \{3,4,8,10,11,12\}"),
    ],
)
def test_unparseable_name_other_formats(fmt: str, folder: str, message: str, tmp_path: Path) -> None:
    write_layout(fmt, tmp_path, ids=4, seed=0)
    target = tmp_path / folder
    shutil.copy(next(p for p in target.iterdir() if p.is_file()), target / "x.png")
    with pytest.raises(DatasetError, match=message):
        parse(fmt, tmp_path)


def test_prcc_file_without_camera_letter(tmp_path: Path) -> None:
    write_layout("prcc", tmp_path, ids=4, seed=0)
    pid_dir = next((tmp_path / "prcc" / "rgb" / "train").iterdir())
    shutil.copy(next(pid_dir.iterdir()), pid_dir / "cropped_rgb999.jpg")
    with pytest.raises(DatasetError, match=r"'cropped_rgb999.jpg'.*camera letter A, B or C"):
        parse("prcc", tmp_path)


def test_unknown_camera(tmp_path: Path) -> None:
    write_layout("personx", tmp_path, ids=4, seed=0)
    query = tmp_path / "PersonX" / "query"
    shutil.copy(next(query.iterdir()), query / "5_c5_1.jpg")
    with pytest.raises(
        DatasetError, match=r"camera c5 of .*5_c5_1.jpg' is not one of the data set's cameras"
    ):
        parse("personx", tmp_path)


def test_market_camera_out_of_range(market: Path) -> None:
    query = market / "Market-1501-v15.09.15" / "query"
    shutil.copy(next(query.iterdir()), query / "0001_c9s1_000001_01.jpg")
    with pytest.raises(DatasetError, match=r"camera c9 .* outside 1\.\.6"):
        parse("market1501", market)


def test_empty_split(market: Path) -> None:
    for p in (market / "Market-1501-v15.09.15" / "query").iterdir():
        p.unlink()
    with pytest.raises(DatasetError, match=r"split 'query' is empty \(no images found in .*query'\)"):
        parse("market1501", market)


def test_no_valid_query_single_camera(tmp_path: Path) -> None:
    for split, pids in (("train", (1, 2)), ("query", (3,)), ("gallery", (3, 4))):
        (tmp_path / split).mkdir()
        for pid in pids:
            src = next((Path(__file__).parent).glob("*.py"))  # any bytes: images are not opened
            shutil.copy(src, tmp_path / split / f"{pid:04d}_c1_{split}.jpg")
    with pytest.raises(
        DatasetError, match=r"no query image has a valid match in the gallery .*cameras \[0\]"
    ):
        parse("folder", tmp_path)


def test_list_file_outside_root(tmp_path: Path) -> None:
    write_layout("msmt17", tmp_path, ids=4, seed=0)
    lst = tmp_path / "MSMT17_V1" / "list_query.txt"
    lst.write_text(lst.read_text() + "../../../etc/passwd 0\n")
    with pytest.raises(DatasetError, match=r"list_query.txt line \d+ points outside the data set folder"):
        parse("msmt17", tmp_path)


def test_list_file_missing_image(tmp_path: Path) -> None:
    write_layout("regdb", tmp_path, ids=4, seed=0)
    lst = tmp_path / "RegDB" / "idx" / "test_visible_1.txt"
    lst.write_text(lst.read_text() + "Visible/999/male_back_v_00001_999.bmp 999\n")
    with pytest.raises(DatasetError, match=r"test_visible_1.txt line \d+ names a missing file"):
        parse("regdb", tmp_path)


def test_regdb_list_outside_root(tmp_path: Path) -> None:
    write_layout("regdb", tmp_path, ids=4, seed=0)
    lst = tmp_path / "RegDB" / "idx" / "train_thermal_2.txt"
    lst.write_text("../elsewhere/a_b_t_00001_1.bmp 0\n")
    with pytest.raises(DatasetError, match=r"train_thermal_2.txt line 1 points outside"):
        parse("regdb", tmp_path, trial="2")


def test_sysu_split_files(tmp_path: Path) -> None:
    write_layout("sysumm01", tmp_path, ids=4, seed=0)
    exp = tmp_path / "SYSU-MM01" / "exp"
    (exp / "val_id.txt").unlink()
    with pytest.raises(DatasetError, match=r"missing split file .*val_id.txt"):
        parse("sysumm01", tmp_path)
    (exp / "val_id.txt").write_text("1,two,3\n")
    with pytest.raises(DatasetError, match=r"holds 'two', not an id"):
        parse("sysumm01", tmp_path)


def test_options(market: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"has no option 'variant'\. Options: ap: non-interpolated"):
        parse("market1501", market, variant="detected")
    with pytest.raises(DatasetError, match=r"option ap='interpolated' is not one of non-interpolated, trapezoid"):
        parse("market1501", market, ap="interpolated")
    write_layout("regdb", tmp_path / "r", ids=4, seed=0)
    with pytest.raises(DatasetError, match=r"trial='11' must be an integer in 1\.\.10"):
        parse("regdb", tmp_path / "r", trial="11")
    with pytest.raises(DatasetError, match=r"option mode='outdoor' is not one of all, indoor"):
        parse("sysumm01", tmp_path, mode="outdoor")
    with pytest.raises(DatasetError, match=r"light='maybe' must be true or false"):
        parse("celebreid", tmp_path, light="maybe")
