"""MSMT17 (V1, and V2 where present): ``MSMT17_V1/{train,test}/<pid>/*.jpg`` plus
``list_{train,val,query,gallery}.txt`` with lines ``<pid>/<file>.jpg <label>``.

Train = list_train + list_val (as ICSR and camera-mixup use it); query and gallery come from
their lists, paths relative to ``test/``. The basename ``<pid>_<idx>_<cam>_<date...>.jpg`` gives
the pid (token 1) and the 1-based camera (token 3) -> 0-based camid; 15 cameras. V2
(``MSMT17_V2/{mask_train_v2,mask_test_v2}``) is read with the same lists when V1 is absent.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset
from reid_core.datasets.layout import (
    check_options,
    choice_option,
    find_dataset_dir,
    parse_basename,
    read_list_file,
    relabel,
    require_nonempty,
    require_valid_queries,
    resolve_listed,
)
from reid_core.datasets.market_style import AP_OPTION, market_evaluations

log = logging.getLogger(__name__)

VERSIONS = {"1": ("MSMT17_V1", "train", "test"), "2": ("MSMT17_V2", "mask_train_v2", "mask_test_v2")}
LISTS = {
    "train": ("train", "list_train.txt", "list_val.txt"),
    "query": ("test", "list_query.txt"),
    "gallery": ("test", "list_gallery.txt"),
}
REGEX = re.compile(r"^(-?\d+)_(-?\d+)_(\d+)_")
PATTERN = "<pid>_<idx>_<cam 01..15>_<date...>.jpg, e.g. 0000_000_01_0303morning_0015_0.jpg"
NUM_CAMS = 15
LAYOUT = """  <root>/MSMT17_V1/
    train/<pid>/*.jpg   test/<pid>/*.jpg
    list_train.txt  list_val.txt  list_query.txt  list_gallery.txt   (lines: <pid>/<file>.jpg <label>)"""


def _parse_list(base: Path, image_dir: str, list_name: str) -> list[Sample]:
    list_file = base / list_name
    samples = []
    for line, fields in read_list_file(list_file, "msmt17"):
        path, rel = resolve_listed(base, f"{image_dir}/{fields[0]}", list_file, line, "msmt17")
        match = parse_basename(path, REGEX, PATTERN, "msmt17")
        cam = int(match.group(3))
        if not 1 <= cam <= NUM_CAMS:
            raise DatasetError(
                f"msmt17: camera {cam} of {path!r} is outside 1..{NUM_CAMS}; expected {PATTERN}"
            )
        samples.append(Sample(path=path, pid=int(match.group(1)), camid=cam - 1, relpath=rel))
    return samples


class MSMT17(ReidDataset):
    """MSMT17 (Wei et al. 2018): train 32,621 / 1,041 ids, query 11,659 / 3,060, gallery 82,161 / 3,060."""

    name = "msmt17"
    evaluations = (EvalSpec("market"),)

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(
            self.name,
            options,
            {"version": "1 (default; falls back to 2 when only V2 exists) or 2", **AP_OPTION},
        )
        wanted = choice_option(self.name, options, "version", ("1", "2"), "1")
        order = [wanted] if "version" in options else ["1", "2"]
        base = None
        for version in order:
            folder, train_dir, test_dir = VERSIONS[version]
            try:
                base = find_dataset_dir(
                    root,
                    dataset=self.name,
                    folders=(folder,),
                    markers=(train_dir, test_dir, "list_train.txt", "list_query.txt", "list_gallery.txt"),
                    layout=LAYOUT.replace("MSMT17_V1", folder),
                )
                break
            except DatasetError as exc:
                error = exc
        if base is None:
            raise error
        dirs = {"train": train_dir, "test": test_dir}
        splits: dict[str, list[Sample]] = {}
        for split, (which, *lists) in LISTS.items():
            samples = []
            for name in lists:
                if name == "list_val.txt" and not (base / name).exists():
                    log.warning("msmt17: %s is missing; train uses list_train.txt only", base / name)
                    continue
                samples.extend(_parse_list(base, dirs[which], name))
            require_nonempty(samples, split, base / lists[0], self.name)
            splits[split] = samples
        require_valid_queries(splits["query"], splits["gallery"], self.name)
        super().__init__(
            relabel(splits["train"]),
            splits["query"],
            splits["gallery"],
            evaluations=market_evaluations(self.name, options),
            root=str(base),
        )
