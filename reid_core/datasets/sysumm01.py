"""SYSU-MM01 (Wu et al. 2017): ``SYSU-MM01/cam{1..6}/<PPPP>/<NNNN>.jpg`` and
``SYSU-MM01/exp/{train,val,test}_id.txt`` (each one line of comma-separated ids).

RGB cameras 1, 2, 4, 5 (modality ``visible``), infrared cameras 3, 6 (``infrared``); camid =
cam - 1. Train = the ids of train_id.txt and val_id.txt (395), relabelled 0..N-1; ids in no list
(e.g. ids seen by one camera only) are ignored. Query = every infrared image of the test ids.
Gallery = every RGB image of the test ids in the mode's cameras (all: 1, 2, 4, 5; indoor: 1, 2),
ordered by (pid, camera, file name): the ``sysu-all`` / ``sysu-indoor`` evaluators draw their
galleries (``shots`` images per id and camera, ``trials`` seeded draws) from this pool.

One run reports every setting the papers report: with ``mode=all`` (the default) the evaluations are
all-search and indoor-search (the indoor evaluator keeps cameras 1, 2 of the pool), each single-shot
(``sysu-all``, ``sysu-indoor``) and multi-shot (``sysu-all-multi``, ``sysu-indoor-multi``); the first,
all-search single-shot, is the main metric. ``mode=indoor`` keeps the indoor settings only.
``shots`` (default ``1,10``) lists the gallery sizes; ``seed_base`` / ``seed_step`` set the draws'
seeds (trial t uses ``seed_base + seed_step * t``; 0 / 1 = AGW, 2019 / 33 = the IV-ReID code).
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


def _shots(raw: str) -> list[int]:
    """The ``shots`` option: distinct positive integers, in the given order."""
    try:
        values = [int(x) for x in str(raw).split(",") if x.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1 or len(set(values)) != len(values):
        raise DatasetError(
            f"data set 'sysumm01': option shots={raw!r} must list distinct positive integers, e.g. shots=1,10"
        )
    return values


def _key(mode: str, shots: int) -> str:
    """The metrics key of one setting: ``sysu-all``, ``sysu-all-multi`` (10 shots), ``sysu-all-3shot``."""
    if shots == 1:
        return ""  # the protocol's name
    return f"sysu-{mode}-multi" if shots == 10 else f"sysu-{mode}-{shots}shot"


class SYSUMM01(ReidDataset):
    """SYSU-MM01: train 395 ids (22,258 RGB + 11,909 IR); query 3,803 IR images of 96 ids."""

    name = "sysumm01"

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(
            self.name,
            options,
            {
                "mode": "all (default: all- and indoor-search) or indoor (indoor-search only)",
                "trials": "number of random galleries per setting (default 10)",
                "shots": "comma-separated images per id and camera in a gallery (default 1,10: single and multi-shot)",
                "seed_base": "trial t draws with seed seed_base + seed_step * t (default 0: AGW; IV-ReID: 2019)",
                "seed_step": "see seed_base (default 1; IV-ReID: 33)",
            },
        )
        mode = choice_option(self.name, options, "mode", ("all", "indoor"), "all")
        trials = int_option(self.name, options, "trials", 10, 1, 1000)
        shots = _shots(options.get("shots", "1,10"))
        seeds = {key: int_option(self.name, options, key, default, -(2**62), 2**62)
                 for key, default in (("seed_base", 0), ("seed_step", 1))}
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
        modes = ("all", "indoor") if mode == "all" else ("indoor",)
        evaluations = [
            EvalSpec(f"sysu-{m}", name=_key(m, n), options={"trials": trials, "shots": n, **seeds})
            for n in shots
            for m in modes
        ]
        super().__init__(relabel(train), query, gallery, evaluations=evaluations, root=str(base))
