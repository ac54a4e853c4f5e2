"""Every public parser on a tree written by the fixture maker: the statistics it reports equal the
fixture's, and the published conventions hold (junk, distractors, relabelling, 0-based cameras)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reid_core.datasets.catalog import PARSERS
from reid_core.datasets.fixtures import FORMATS, write_layout

CASES = [
    *[(fmt, {}) for fmt in FORMATS],
    ("cuhk03", {"variant": "detected"}),
    ("regdb", {"trial": "3"}),
    ("regdb", {"trial": "10", "direction": "t2v"}),
    ("sysumm01", {"mode": "indoor"}),
    ("celebreid", {"light": "true"}),
    ("last", {"split": "val"}),
]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One fixture tree per format (written once for the module)."""
    out = {}
    for fmt in FORMATS:
        root = tmp_path_factory.mktemp(fmt)
        write_layout(fmt, root, ids=6, seed=3)
        out[fmt] = root
    return out


def parse(fmt: str, root: Path, **options: str):
    return PARSERS[fmt][0](str(root), **options)


@pytest.mark.parametrize(("fmt", "options"), CASES, ids=lambda v: str(v))
def test_stats_equal_fixture(fmt: str, options: dict[str, str], tmp_path: Path) -> None:
    expected = write_layout(fmt, tmp_path, ids=6, seed=1, options=options)
    assert parse(fmt, tmp_path, **options).stats() == expected


def test_celebreid_light_name(tmp_path: Path) -> None:
    expected = write_layout("celebreid-light", tmp_path, ids=6, seed=2)
    assert PARSERS["celebreid-light"][0](str(tmp_path)).stats() == expected
    assert expected != parse("celebreid", tmp_path).stats()


def test_fixture_is_deterministic(tmp_path: Path) -> None:
    a = write_layout("market1501", tmp_path / "a", ids=6, seed=5)
    b = write_layout("market1501", tmp_path / "b", ids=6, seed=5)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    assert a == b and files_a == files_b
    first = next(p for p in files_a if p.suffix == ".jpg")
    assert (tmp_path / "a" / first).read_bytes() == (tmp_path / "b" / first).read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_common_conventions(fmt: str, trees: dict[str, Path]) -> None:
    ds = parse(fmt, trees[fmt])
    train_pids = sorted({s.pid for s in ds.train})
    assert train_pids == list(range(len(train_pids)))  # relabelled 0..N-1
    clothes = sorted({s.clothes_id for s in ds.train if s.clothes_id is not None})
    assert clothes == list(range(len(clothes)))
    for name in ds.split_names():
        for s in ds.split(name):
            assert s.camid >= 0
            assert Path(s.path).is_absolute() and Path(s.path).is_file()
            assert Path(ds.root, s.relpath) == Path(s.path)
    split_names = set(ds.split_names())
    for spec in ds.evaluations:
        assert spec.query in split_names and spec.gallery in split_names


def _raw(path: str, regex: str) -> tuple[int, int]:
    m = re.match(regex, Path(path).name)
    assert m is not None
    return int(m.group(1)), int(m.group(2))


def test_market_junk_distractors_and_cameras(trees: dict[str, Path]) -> None:
    ds = parse("market1501", trees["market1501"])
    files = [p.name for p in (Path(ds.root) / "bounding_box_test").iterdir()]
    assert any(f.startswith("-1_") for f in files) and "Thumbs.db" in files
    assert all(s.pid != -1 for s in [*ds.train, *ds.query, *ds.gallery])
    assert any(s.pid == 0 for s in ds.gallery)  # distractors kept
    assert all(s.pid != 0 for s in ds.query)
    for s in [*ds.query, *ds.gallery]:
        pid, cam = _raw(s.path, r"^(-?\d+)_c(\d+)")
        assert (s.pid, s.camid) == (pid, cam - 1)  # test pids raw, cameras 0-based
    assert {s.camid for s in ds.train} <= set(range(6))


@pytest.mark.parametrize("fmt", ["market1501", "dukemtmcreid", "cuhk03", "msmt17", "personx"])
def test_market_family_ap_option(fmt: str, trees: dict[str, Path]) -> None:
    assert parse(fmt, trees[fmt]).evaluations[0].options == {}
    spec = parse(fmt, trees[fmt], ap="trapezoid").evaluations[0]
    assert (spec.protocol, spec.options) == ("market", {"ap": "trapezoid"})


def test_duke_eight_cameras(trees: dict[str, Path]) -> None:
    ds = parse("dukemtmcreid", trees["dukemtmcreid"])
    for s in [*ds.train, *ds.gallery]:
        assert s.camid == _raw(s.path, r"^(\d+)_c(\d)")[1] - 1
    gallery_only = {s.pid for s in ds.gallery} - {s.pid for s in ds.query}
    assert gallery_only  # distractor identities


def test_cuhk03_variants(trees: dict[str, Path]) -> None:
    labeled = parse("cuhk03", trees["cuhk03"])
    detected = parse("cuhk03", trees["cuhk03"], variant="detected")
    assert all(s.path.endswith(".png") for s in labeled.train)
    assert all("/labeled/" in s.path for s in labeled.train)
    assert all("/detected/" in s.path for s in detected.gallery)
    assert len(detected.train) == len(labeled.train) - 1
    assert len(detected.gallery) == len(labeled.gallery) + 1
    assert {s.camid for s in labeled.query} == {0, 1}


def test_msmt17_lists_and_cameras(trees: dict[str, Path]) -> None:
    ds = parse("msmt17", trees["msmt17"])
    base = Path(ds.root)
    n_train = len((base / "list_train.txt").read_text().split("\n")) - 1
    n_val = len((base / "list_val.txt").read_text().split("\n")) - 1
    assert n_val > 0 and len(ds.train) == n_train + n_val  # train = list_train + list_val
    for s in [*ds.train, *ds.query]:
        assert s.camid == int(Path(s.path).name.split("_")[2]) - 1
    assert all(s.relpath.startswith("test/") for s in ds.gallery)


def test_personx_camera_map(trees: dict[str, Path]) -> None:
    ds = parse("personx", trees["personx"])
    cams = (3, 4, 8, 10, 11, 12)
    for s in [*ds.train, *ds.query, *ds.gallery]:
        assert s.camid == cams.index(_raw(s.path, r"^(\d+)_c(\d+)")[1])


def test_prcc_splits_and_clothes(trees: dict[str, Path]) -> None:
    ds = parse("prcc", trees["prcc"])
    everything = [s for n in ds.split_names() for s in ds.split(n)]
    assert not any("sketch" in s.path for s in everything)
    assert {s.camid for s in ds.gallery} == {0} and {s.camid for s in ds.query} == {2}
    assert {s.camid for s in ds.extra["query_b"]} == {1}
    assert not {s.path for s in ds.extra["val"]} & {s.path for s in ds.train}  # val never merged
    for s in ds.train:
        assert s.camid == "ABC".index(Path(s.path).name[0])
    # A and B share the outfit, C differs (train clothes relabelled from <pid> / <pid>C keys)
    by_pid: dict[tuple[int, int], set[int]] = {}
    for s in ds.train:
        by_pid.setdefault((s.pid, s.camid == 2), set()).add(s.clothes_id)
    assert all(len(v) == 1 for v in by_pid.values())
    assert [e.key for e in ds.evaluations] == ["cloth-changing", "same-clothes"]
    assert {e.protocol for e in ds.evaluations} == {"standard"}
    assert ds.evaluations[1].query == "query_b"


def test_ltcc_unpadded_cameras_and_clothes(trees: dict[str, Path]) -> None:
    ds = parse("ltcc", trees["ltcc"])
    for s in [*ds.train, *ds.query, *ds.gallery]:
        assert s.camid == int(re.search(r"_c(\d+)_", Path(s.path).name).group(1)) - 1
    names = [Path(s.path).name for s in [*ds.train, *ds.query, *ds.gallery]]
    assert any(re.search(r"_c\d_", n) for n in names) and any(re.search(r"_c1\d_", n) for n in names)
    keys = {}
    for s in [*ds.query, *ds.gallery]:
        key = "_".join(Path(s.path).name.split("_")[:2])
        assert keys.setdefault(key, s.clothes_id) == s.clothes_id
    assert len(set(keys.values())) == len(keys)
    assert [e.key for e in ds.evaluations] == ["cloth-changing", "standard", "same-clothes"]


def test_last_running_camids_and_val(trees: dict[str, Path]) -> None:
    ds = parse("last", trees["last"])
    cams = [s.camid for s in [*ds.query, *ds.gallery]]
    assert cams == list(range(len(cams)))  # query 0..Nq-1, gallery from Nq up
    assert {"val_query", "val_gallery"} <= set(ds.extra)
    assert all(s.clothes_id is None for s in ds.gallery)
    assert all(s.pid == int(Path(s.path).name.split("_")[0]) for s in ds.query)
    assert [e.key for e in ds.evaluations] == ["standard", "val"]


def test_celebreid_cameras(trees: dict[str, Path]) -> None:
    ds = parse("celebreid", trees["celebreid"])
    assert {s.camid for s in ds.query} == {0} and {s.camid for s in ds.gallery} == {1}
    assert ds.evaluations[0].protocol == "celeb"


def test_regdb_trials_and_modalities(trees: dict[str, Path]) -> None:
    t1 = parse("regdb", trees["regdb"], trial="1")
    splits = {
        frozenset(s.pid for s in parse("regdb", trees["regdb"], trial=str(t)).query) for t in range(1, 11)
    }
    assert len(splits) > 1  # each trial has its own id split
    assert {s.modality for s in t1.query} == {"visible"} and {s.modality for s in t1.gallery} == {"infrared"}
    assert {(s.modality, s.camid) for s in t1.train} == {("visible", 0), ("infrared", 1)}
    assert all(s.pid == int(Path(s.path).parent.name) for s in t1.query)
    assert [(e.key, e.query, e.gallery) for e in t1.evaluations] == [
        ("visible-to-thermal", "query", "gallery"),
        ("thermal-to-visible", "gallery", "query"),
    ]


def test_sysu_splits(trees: dict[str, Path]) -> None:
    root = trees["sysumm01"]
    ds = parse("sysumm01", root)
    indoor = parse("sysumm01", root, mode="indoor")
    base = Path(ds.root)
    listed = set()
    for name in ("train", "val", "test"):
        listed |= {int(x) for x in (base / "exp" / f"{name}_id.txt").read_text().strip().split(",")}
    on_disk = {int(p.name) for p in base.glob("cam*/*")}
    assert on_disk - listed  # ids seen by one camera only...
    used = {Path(s.path).parent.name for s in [*ds.train, *ds.query, *ds.gallery]}
    assert not {int(u) for u in used} - listed  # ...belong to no split
    assert {s.camid for s in ds.query} <= {2, 5} and {s.modality for s in ds.query} == {"infrared"}
    assert {s.camid for s in ds.gallery} <= {0, 1, 3, 4} and {s.modality for s in ds.gallery} == {"visible"}
    assert {s.camid for s in indoor.gallery} <= {0, 1}
    keys = [(s.pid, s.camid, Path(s.path).name) for s in ds.gallery]
    assert keys == sorted(keys)  # the order the single-shot draw relies on
    assert ds.evaluations[0].protocol == "sysu-all" and indoor.evaluations[0].protocol == "sysu-indoor"
    assert ds.evaluations[0].options == {"trials": 10, "shots": 1, "seed_base": 0, "seed_step": 1}
    assert [e.key for e in ds.evaluations] == ["sysu-all", "sysu-indoor", "sysu-all-multi", "sysu-indoor-multi"]
    assert [e.key for e in indoor.evaluations] == ["sysu-indoor", "sysu-indoor-multi"]
