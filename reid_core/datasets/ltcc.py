"""LTCC (Qian et al. 2020): ``LTCC_ReID/{train,query,test}/*.png`` (``test`` = gallery).

Names ``<pid>_<outfit>_c<cam>_<frame>.png`` (cameras not zero-padded: ``c4``, ``c12``); clothes key
= ``<pid>_<outfit>``; camid = cam - 1. Train pids and clothes relabelled 0..N-1; test clothes
relabelled over query and gallery together; test pids raw. One query set evaluated three ways:
cloth-changing (main), standard, same-clothes. The basename is parsed, never the full path.
"""

from __future__ import annotations

import re
from pathlib import Path

from reid_core.data.sample import Sample
from reid_core.datasets.base import EvalSpec, ReidDataset
from reid_core.datasets.layout import (
    check_options,
    find_dataset_dir,
    label_keys,
    list_images,
    parse_basename,
    relabel,
    relpath,
    require_dir,
    require_nonempty,
    require_valid_queries,
)

REGEX = re.compile(r"^(\d+)_(\d+)_c(\d+)")
PATTERN = "<pid>_<outfit>_c<cam>_<frame>.png, e.g. 001_1_c4_015861.png"
SPLITS = (("train", "train"), ("query", "query"), ("gallery", "test"))
LAYOUT = """  <root>/LTCC_ReID/
    train/*.png  query/*.png  test/*.png   (named <pid>_<outfit>_c<cam>_<frame>.png)"""


def _parse(base: Path, sub: str, split: str) -> list[tuple[Path, int, str, int]]:
    folder = require_dir(base / sub, f"{split} split", LAYOUT)
    rows = []
    for path in list_images(folder):
        match = parse_basename(path, REGEX, PATTERN, "ltcc")
        pid, cam = int(match.group(1)), int(match.group(3))
        rows.append((path, pid, f"{match.group(1)}_{match.group(2)}", cam - 1))
    return rows


class LTCC(ReidDataset):
    """LTCC: train 77 ids / 9,576 images; test 75 ids: query 493, gallery 7,050; 12 cameras."""

    name = "ltcc"
    evaluations = (EvalSpec("cloth-changing"), EvalSpec("standard"), EvalSpec("same-clothes"))

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(self.name, options, {})
        base = find_dataset_dir(
            root, dataset=self.name, folders=("LTCC_ReID",), markers=("train", "query", "test"), layout=LAYOUT
        )
        rows = {split: _parse(base, sub, split) for split, sub in SPLITS}
        train_clothes = label_keys(r[2] for r in rows["train"])
        test_clothes = label_keys(r[2] for r in [*rows["query"], *rows["gallery"]])
        splits = {}
        for split, sub in SPLITS:
            clothes = train_clothes if split == "train" else test_clothes
            samples = [
                Sample(str(p), pid, camid, clothes_id=clothes[key], relpath=relpath(p, base))
                for p, pid, key, camid in rows[split]
            ]
            require_nonempty(samples, split, base / sub, self.name)
            splits[split] = samples
        require_valid_queries(splits["query"], splits["gallery"], self.name)
        super().__init__(relabel(splits["train"]), splits["query"], splits["gallery"], root=str(base))
