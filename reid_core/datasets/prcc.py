"""PRCC (Yang et al. 2019), the RGB benchmark: ``prcc/rgb/{train,val}/<pid>/*.jpg`` and
``prcc/rgb/test/{A,B,C}/<pid>/*.jpg``; the ``prcc/sketch/`` tree is ignored.

Train/val camera = the first letter of the file name (A, B, C -> 0, 1, 2); test camera = the
folder. Cameras A and B show the same outfit, C another: train clothes key ``<pid>`` for A/B and
``<pid>C`` for C (relabelled 0..M-1); test clothes ``2*i`` (A/B) and ``2*i+1`` (C), i = index of
the pid among test/A's pids. Splits: gallery = A; query = C (cloth-changing, the main metric);
extra ``query_b`` = B (same clothes); extra ``val`` (never merged into train, not evaluated).
Both evaluations use the standard rule (cameras always differ, nothing is junk), multi-shot.
"""

from __future__ import annotations

import re
from pathlib import Path

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset
from reid_core.datasets.layout import (
    check_options,
    find_dataset_dir,
    label_keys,
    list_images,
    relabel,
    relpath,
    require_dir,
    require_nonempty,
    require_valid_queries,
)

CAMS = {"A": 0, "B": 1, "C": 2}
LETTER = re.compile(r"^([ABC])(?![A-Za-z])")  # "A_cropped_rgb001.jpg"; not "cropped_..."
LAYOUT = """  <root>/prcc/rgb/
    train/<pid>/{A,B,C}_*.jpg      (camera = first letter of the file name)
    val/<pid>/{A,B,C}_*.jpg
    test/A/<pid>/*.jpg  test/B/<pid>/*.jpg  test/C/<pid>/*.jpg"""


def _pid_folders(folder: Path, what: str) -> list[tuple[int, Path]]:
    require_dir(folder, what, LAYOUT)
    out = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        try:
            out.append((int(sub.name), sub))
        except ValueError:
            raise DatasetError(
                f"prcc: folder {str(sub)!r} is not a person id; {what} must hold one numbered folder per person. "
                f"Expected layout:\n{LAYOUT}"
            ) from None
    return out


def _parse_by_letter(base: Path, split: str) -> list[tuple[Path, int, str]]:
    """train/ or val/ as (path, pid, camera letter): the camera is the first letter of each file name."""
    rows = []
    for pid, sub in _pid_folders(base / split, f"{split} split"):
        for path in list_images(sub):
            match = LETTER.match(path.name)
            letter = match.group(1) if match else ""
            if letter not in CAMS:
                raise DatasetError(
                    f"prcc: cannot parse file name {path.name!r} ({str(path)!r}); expected a name starting "
                    "with the camera letter A, B or C, e.g. A_cropped_rgb001.jpg"
                )
            rows.append((path, pid, letter))
    if not rows:
        raise DatasetError(f"prcc: split {split!r} is empty (no images in {str(base / split)!r})")
    return rows


class PRCC(ReidDataset):
    """PRCC: train 150 ids / 17,896; test 71 ids: gallery A 3,384, query B 3,543, query C 3,873."""

    name = "prcc"
    evaluations = (
        EvalSpec("standard", query="query", gallery="gallery", name="cloth-changing"),
        EvalSpec("standard", query="query_b", gallery="gallery", name="same-clothes"),
    )

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(self.name, options, {})
        base = find_dataset_dir(
            root,
            dataset=self.name,
            folders=("prcc/rgb", "rgb"),
            markers=("train", "test/A", "test/B", "test/C"),
            layout=LAYOUT,
        )
        rows = _parse_by_letter(base, "train")
        keys = [f"{pid}C" if letter == "C" else f"{pid}" for _, pid, letter in rows]
        clothes_map = label_keys(keys)
        train = relabel(
            [
                Sample(str(p), pid, CAMS[letter], clothes_id=clothes_map[key], relpath=relpath(p, base))
                for (p, pid, letter), key in zip(rows, keys)
            ],
            clothes=False,
        )
        # i = the pid's index among the sorted test pids (those of test/A in a complete copy)
        test_pids = {
            pid for letter in "ABC" for pid, _ in _pid_folders(base / "test" / letter, f"test/{letter}")
        }
        index = {pid: i for i, pid in enumerate(sorted(test_pids))}
        tests = {}
        for letter in "ABC":
            samples = []
            for pid, sub in _pid_folders(base / "test" / letter, f"test/{letter}"):
                clothes = 2 * index[pid] + (letter == "C")
                samples.extend(
                    Sample(str(p), pid, CAMS[letter], clothes_id=clothes, relpath=relpath(p, base))
                    for p in list_images(sub)
                )
            require_nonempty(samples, f"test/{letter}", base / "test" / letter, self.name)
            tests[letter] = samples
        extra = {"query_b": tests["B"]}
        if (base / "val").is_dir():
            rows = _parse_by_letter(base, "val")
            val_index = {pid: i for i, pid in enumerate(sorted({pid for _, pid, _ in rows}))}
            extra["val"] = [
                Sample(
                    str(p),
                    pid,
                    CAMS[letter],
                    clothes_id=2 * val_index[pid] + (letter == "C"),
                    relpath=relpath(p, base),
                )
                for p, pid, letter in rows
            ]
        require_valid_queries(tests["C"], tests["A"], self.name, rule="same-pid")
        require_valid_queries(tests["B"], tests["A"], self.name, rule="same-pid")
        super().__init__(train, tests["C"], tests["A"], extra, root=str(base))
