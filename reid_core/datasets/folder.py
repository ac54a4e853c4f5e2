"""``folder``: a user's own data, either Market-style file names in ``train/``, ``query/`` and
``gallery/`` folders under ``--root``, or a CSV file (``--option csv=FILE``) of
``path,pid,camid[,clothes_id][,split]`` rows (or a folder holding ``train.csv``, ``query.csv``
and ``gallery.csv``).

Folder names: ``<pid>_c<cam>_<anything>.<jpg|png|bmp>`` with 1-based cameras (-> 0-based), pid -1 =
junk (dropped). CSV: a header row naming the columns (``path,pid,camid,clothes_id,split``) or
positional columns in that order; camids are taken as they are (0-based); relative paths are
resolved against ``--root`` (or the CSV's folder) and must stay inside it. Train pids and clothes
are relabelled 0..N-1; test clothes are relabelled over query and gallery together.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset
from reid_core.datasets.layout import (
    check_options,
    inside,
    label_keys,
    relabel,
    require_nonempty,
    require_valid_queries,
)
from reid_core.datasets.market_style import MarketStyle

SPLITS = ("train", "query", "gallery")
FOLDER_NAMES = {
    "train": ("train", "bounding_box_train"),
    "query": ("query",),
    "gallery": ("gallery", "bounding_box_test", "test"),
}
STYLE = MarketStyle(
    "folder",
    num_cams=10**6,
    pattern="<pid>_c<cam>_<anything>.jpg with a 1-based camera, e.g. 0001_c1_0001.jpg",
)
LAYOUT = """  <root>/
    train/*.jpg  query/*.jpg  gallery/*.jpg   (named <pid>_c<cam>_<anything>.jpg, cameras 1-based)
  or --option csv=FILE with rows path,pid,camid[,clothes_id][,split] (camid 0-based)"""
COLUMNS = ("path", "pid", "camid", "clothes_id", "split")


def _folder_splits(root: Path) -> dict[str, list[Sample]]:
    subs = {}
    for split in SPLITS:
        sub = next((n for n in FOLDER_NAMES[split] if (root / n).is_dir()), None)
        if sub is None:
            raise DatasetError(
                f"folder: no {split} folder ({' or '.join(FOLDER_NAMES[split])}) in {str(root)!r}. Expected layout:\n{LAYOUT}"
            )
        subs[split] = sub
    return {split: STYLE.parse_split(root, sub, split, root.name) for split, sub in subs.items()}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    if not rows:
        raise DatasetError(
            f"folder: CSV file {str(path)!r} is empty; expected rows path,pid,camid[,clothes_id][,split]"
        )
    header = [c.strip().lower() for c in rows[0]]
    if len(header) > 1 and not header[1].lstrip("-").isdigit():  # a header row names the columns
        unknown = sorted(set(header) - set(COLUMNS))
        if unknown or not {"path", "pid", "camid"} <= set(header):
            raise DatasetError(
                f"folder: CSV header of {str(path)!r} is {header}; expected columns {', '.join(COLUMNS)} "
                "(path, pid and camid required)"
            )
        names, body, first = header, rows[1:], 2
    else:
        names, body, first = list(COLUMNS), rows, 1
    out = []
    for number, row in enumerate(body, start=first):
        if len(row) < 3 or len(row) > len(names):
            raise DatasetError(
                f"folder: {path.name} line {number} has {len(row)} fields, expected "
                f"{', '.join(names[:3])}[, ...]: {','.join(row)!r}"
            )
        record = {k: v.strip() for k, v in zip(names, row)}
        record["_line"] = str(number)
        out.append(record)
    return out


def _csv_samples(
    rows: list[dict[str, str]], csv_file: Path, base: Path
) -> list[tuple[str, Sample, str | None]]:
    """``(split or "", sample, raw clothes key or None)`` per CSV row; pid -1 rows (junk) are dropped."""
    out = []
    for row in rows:
        line = row["_line"]
        try:
            pid, camid = int(row["pid"]), int(row["camid"])
        except ValueError:
            raise DatasetError(
                f"folder: {csv_file.name} line {line}: pid and camid must be integers, got "
                f"pid={row['pid']!r} camid={row['camid']!r}"
            ) from None
        if pid == -1:
            continue
        if camid < 0:
            raise DatasetError(
                f"folder: {csv_file.name} line {line}: camid {camid} < 0 (CSV camids are 0-based)"
            )
        listed = Path(row["path"])
        if listed.is_absolute():
            target: str | None = str(listed)
            rel = str(listed)
        else:
            target = inside(base, row["path"])
            if target is None:
                raise DatasetError(
                    f"folder: {csv_file.name} line {line} points outside the root {str(base)!r}: "
                    f"{row['path']!r}. Use paths relative to --root (or absolute paths)."
                )
            rel = Path(os.path.relpath(target, os.path.abspath(base))).as_posix()
        if not os.path.isfile(target):
            raise DatasetError(f"folder: {csv_file.name} line {line} names a missing file {str(target)!r}")
        clothes = row.get("clothes_id") or None
        out.append((row.get("split", ""), Sample(str(target), pid, camid, relpath=rel), clothes))
    return out


def _csv_splits(spec: str, root: str | None) -> dict[str, list[Sample]]:
    source = Path(spec).expanduser()
    if not source.is_absolute() and root and not source.exists():
        source = Path(root).expanduser() / source
    if source.is_dir():
        files = {s: source / f"{s}.csv" for s in SPLITS}
    elif source.is_file():
        files = {"": source}
    else:
        raise DatasetError(
            f"folder: csv={spec!r} is neither a CSV file nor a folder with train.csv, query.csv, gallery.csv"
        )
    base = Path(root).expanduser() if root else (source if source.is_dir() else source.parent)
    triples: list[tuple[str, Sample, str | None]] = []
    for split, path in files.items():
        if not path.is_file():
            raise DatasetError(
                f"folder: missing CSV file {str(path)!r} (one per split: train, query, gallery)"
            )
        rows = _csv_rows(path)
        if not split and any(not r.get("split") for r in rows):
            raise DatasetError(
                f"folder: {path.name} needs a split column (train, query or gallery) on every row, "
                "or give csv=FOLDER holding train.csv, query.csv and gallery.csv"
            )
        triples.extend((split or s, sample, c) for s, sample, c in _csv_samples(rows, path, base))
    bad = sorted({s for s, _, _ in triples} - set(SPLITS))
    if bad:
        raise DatasetError(f"folder: unknown split value(s) {bad} in the CSV; use train, query or gallery")
    has_clothes = any(c is not None for _, _, c in triples)
    if has_clothes and any(c is None for _, _, c in triples):
        raise DatasetError(
            "folder: clothes_id is given for some rows but not others; give it on every row or none"
        )
    train_map = label_keys(c for s, _, c in triples if s == "train" and c is not None)
    test_map = label_keys(c for s, _, c in triples if s != "train" and c is not None)
    out: dict[str, list[Sample]] = {s: [] for s in SPLITS}
    for split, sample, clothes in triples:
        if clothes is not None:
            mapping = train_map if split == "train" else test_map
            sample = Sample(
                sample.path, sample.pid, sample.camid, clothes_id=mapping[clothes], relpath=sample.relpath
            )
        out[split].append(sample)
    return out


class FolderDataset(ReidDataset):
    """A user's own data: Market-style names in train/query/gallery folders, or a CSV."""

    name = "folder"

    def __init__(self, root: str | None = None, **options: str) -> None:
        allowed: Mapping[str, str] = {
            "csv": "a CSV file with rows path,pid,camid[,clothes_id][,split], or a folder with train/query/gallery.csv",
            "protocol": "the evaluator to use (default market; cloth-changing is added when clothes ids exist)",
        }
        check_options(self.name, options, allowed)
        if "csv" in options:
            splits = _csv_splits(options["csv"], root)
            where = options["csv"]
        else:
            if not root:
                raise DatasetError(f"folder: needs --root (or --option csv=FILE). Expected layout:\n{LAYOUT}")
            base = Path(root).expanduser()
            if not base.is_dir():
                raise DatasetError(f"folder: root {str(base)!r} does not exist. Expected layout:\n{LAYOUT}")
            splits = _folder_splits(Path(os.path.abspath(base)))
            where = str(base)
        for split in SPLITS:
            require_nonempty(splits[split], split, where, self.name)
        require_valid_queries(splits["query"], splits["gallery"], self.name)
        evaluations = [EvalSpec(options.get("protocol", "market"))]
        if any(s.clothes_id is not None for s in splits["query"]):
            evaluations.append(EvalSpec("cloth-changing"))
        super().__init__(
            relabel(splits["train"]),
            splits["query"],
            splits["gallery"],
            evaluations=evaluations,
            root=str(root) if root else None,
        )
