"""Celeb-reID and Celeb-reID-light (Huang et al. 2019): ``Celeb-reID/{train,query,gallery}/*.jpg``
(``Celeb-reID-light/...`` with ``--option light=true`` or the ``celebreid-light`` name).

Names ``<pid>_<n>_<...>.jpg``: the first token is the pid, the second an image index, the rest
carries no meaning. The data set has no camera labels: train images get camera 0, query images
camera 0 and gallery images camera 1, so that no gallery image is removed as "same camera" (the
CAMC loader's per-folder running index has the same intent, but drops query i's gallery image i
when they share a pid; see docs/datasets.md). Evaluated with the ``celeb`` protocol.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from reid_core.data.sample import Sample
from reid_core.datasets.base import EvalSpec, ReidDataset
from reid_core.datasets.layout import (
    bool_option,
    check_options,
    find_dataset_dir,
    parse_basename,
    read_split,
    relabel,
    require_valid_queries,
)

REGEX = re.compile(r"^(-?\d+)_(\d+)")
PATTERN = "<pid>_<n>_<...>.jpg, e.g. 1_5_0.jpg"
SPLITS = (("train", "train", 0), ("query", "query", 0), ("gallery", "gallery", 1))


def _layout(folder: str) -> str:
    return f"  <root>/{folder}/\n    train/*.jpg  query/*.jpg  gallery/*.jpg   (named {PATTERN})"


class CelebReID(ReidDataset):
    """Celeb-reID: train 632 ids / 20,208; query 420 / 2,972; gallery 420 / 11,006 (light: 490 / 9,021; 100 / 887;
    100 / 934)."""

    name = "celebreid"
    evaluations = (EvalSpec("celeb"),)
    default_light = False

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(self.name, options, {"light": "true to read Celeb-reID-light (default false)"})
        light = bool_option(self.name, options, "light", self.default_light)
        folder = "Celeb-reID-light" if light else "Celeb-reID"
        base = find_dataset_dir(
            root,
            dataset=self.name,
            folders=(folder,),
            markers=("train", "query", "gallery"),
            layout=_layout(folder),
            aliases=("celebreid-light",) if light else (),
        )
        self.light = light
        splits = {
            split: read_split(base, sub, split, _layout(folder), self.name, partial(self._sample, camid))
            for split, sub, camid in SPLITS
        }
        require_valid_queries(splits["query"], splits["gallery"], self.name, rule="same-pid")
        super().__init__(relabel(splits["train"]), splits["query"], splits["gallery"], root=str(base))

    def _sample(self, camid: int, path: Path, rel: str) -> Sample:
        """An image of a split: the pid from its name, the split's fixed camera."""
        return Sample(
            str(path), int(parse_basename(path, REGEX, PATTERN, self.name).group(1)), camid, relpath=rel
        )


class CelebReIDLight(CelebReID):
    """Celeb-reID-light: train 490 ids / 9,021; query 100 / 887; gallery 100 / 934."""

    name = "celebreid-light"
    default_light = True
