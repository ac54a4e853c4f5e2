"""SYSU-MM01 (Wu et al. 2017): ``SYSU-MM01/cam{1..6}/<PPPP>/<NNNN>.jpg`` and
``SYSU-MM01/exp/{train,val,test}_id.txt`` (each one line of comma-separated ids).

RGB cameras 1, 2, 4, 5 (modality ``visible``), infrared cameras 3, 6 (``infrared``); camid =
cam - 1. Train = the ids of train_id.txt and val_id.txt (395), relabelled 0..N-1; ids in no list
(e.g. ids seen by one camera only) are ignored. Query = every infrared image of the test ids.
Gallery = every RGB image of the test ids in the mode's cameras (all: 1, 2, 4, 5; indoor: 1, 2),
ordered by (pid, camera, file name): the ``sysu-all`` / ``sysu-indoor`` evaluator draws its
single-shot galleries (one image per id and camera, ``trials`` draws) from this pool.
"""

from __future__ import annotations

from pathlib import Path

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset
from reid_core.datasets.layout import (
    check_options,
    choice_option,
    find_dataset_dir,
    int_option,
    list_images,
    relabel,
    relpath,
    require_nonempty,
    require_valid_queries,
)

RGB_CAMS = (1, 2, 4, 5)
IR_CAMS = (3, 6)
MODE_CAMS = {"all": (1, 2, 4, 5), "indoor": (1, 2)}
LAYOUT = """  <root>/SYSU-MM01/
    cam1/ .. cam6/<PPPP>/<NNNN>.jpg     (cams 1,2,4,5 RGB; 3,6 infrared)
    exp/train_id.txt  exp/val_id.txt  exp/test_id.txt   (one line: 1,2,4,...)"""


def read_ids(path: Path) -> list[int]:
    """The ids of one ``exp/*_id.txt`` file (comma- or whitespace-separated integers)."""
    if not path.is_file():
        raise DatasetError(f"sysumm01: missing split file {str(path)!r}. Expected layout:\n{LAYOUT}")
    ids = []
    for token in path.read_text().replace(",", " ").split():
        try:
            ids.append(int(token))
        except ValueError:
            raise DatasetError(
                f"sysumm01: {str(path)!r} holds {token!r}, not an id; expected one line of "
                "comma-separated integers, e.g. 1,2,4,5"
            ) from None
    if not ids:
        raise DatasetError(f"sysumm01: split file {str(path)!r} is empty")
    return ids


def _images(base: Path, ids: list[int], cams: tuple[int, ...]) -> list[Sample]:
    """Images of ``ids`` in ``cams``, ordered by (pid, camera, file name)."""
    samples = []
    for pid in sorted(set(ids)):
        for cam in cams:
            folder = base / f"cam{cam}" / f"{pid:04d}"
            if not folder.is_dir():
                continue
            modality = "visible" if cam in RGB_CAMS else "infrared"
            samples.extend(
                Sample(str(p), pid, cam - 1, modality=modality, relpath=relpath(p, base))
                for p in list_images(folder)
            )
    return samples


class SYSUMM01(ReidDataset):
    """SYSU-MM01: train 395 ids (22,258 RGB + 11,909 IR); query 3,803 IR images of 96 ids."""

    name = "sysumm01"

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(
            self.name,
            options,
            {
                "mode": "all (default) or indoor",
                "trials": "number of random single-shot galleries (default 10)",
            },
        )
        mode = choice_option(self.name, options, "mode", ("all", "indoor"), "all")
        trials = int_option(self.name, options, "trials", 10, 1, 1000)
        base = find_dataset_dir(
            root,
            dataset=self.name,
            folders=("SYSU-MM01",),
            markers=("exp", *(f"cam{c}" for c in (*RGB_CAMS, *IR_CAMS))),
            layout=LAYOUT,
        )
        train_ids = read_ids(base / "exp" / "train_id.txt") + read_ids(base / "exp" / "val_id.txt")
        test_ids = read_ids(base / "exp" / "test_id.txt")
        train = _images(base, train_ids, (*RGB_CAMS, *IR_CAMS))
        query = _images(base, test_ids, IR_CAMS)
        gallery = _images(base, test_ids, MODE_CAMS[mode])
        require_nonempty(train, "train", base, self.name)
        require_nonempty(query, "query (infrared images of the test ids)", base, self.name)
        require_nonempty(gallery, f"gallery ({mode}-search RGB images of the test ids)", base, self.name)
        require_valid_queries(query, gallery, self.name)
        self.mode = mode
        evaluations = [EvalSpec(f"sysu-{mode}", options={"trials": trials})]
        super().__init__(relabel(train), query, gallery, evaluations=evaluations, root=str(base))
