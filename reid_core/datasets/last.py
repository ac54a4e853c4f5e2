"""LaST (Shu et al. 2021): ``last/train/<pid>/*.jpg``, ``last/{val,test}/query/*.jpg``,
``last/{val,test}/gallery/<pid>/*.jpg``.

The basename split on ``_`` gives pid = int(first token) and clothes key = first token + ``_`` + last
token (train only: the test sets have no clothes labels, so test clothes are left empty).
LaST has no camera labels: camid = the running image index (train 0..N-1; query 0..Nq-1 and
gallery Nq.. in each evaluation split), so no gallery image is ever junk. ``test/`` is evaluated
by default (CAL's choice); ``--option split=val`` evaluates ``val/`` instead; the other one is
kept as extra splits ``val_query``/``val_gallery`` (or ``test_query``/``test_gallery``) with a
second, named evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path

import attrs

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset
from reid_core.datasets.layout import (
    check_options,
    choice_option,
    find_dataset_dir,
    label_keys,
    read_split,
    relabel,
    require_valid_queries,
)

PATTERN = "<pid>_<...>_<clothes>.jpg (tokens split on '_', the first an integer person id)"
LAYOUT = """  <root>/last/
    train/<pid>/*.jpg
    val/query/*.jpg    val/gallery/<pid>/*.jpg
    test/query/*.jpg   test/gallery/<pid>/*.jpg"""


def _tokens(path: Path) -> tuple[int, str]:
    """(pid, clothes key) of a LaST file name."""
    tokens = path.stem.split("_")
    try:
        pid = int(tokens[0])
    except ValueError:
        raise DatasetError(
            f"last: cannot parse file name {path.name!r} ({str(path)!r}); expected {PATTERN}"
        ) from None
    return pid, f"{tokens[0]}_{tokens[-1]}"


def _read(
    base: Path, sub: str, split: str, camids: Iterator[int], *, what: str = "", recursive: bool = False
) -> list[Sample]:
    """The images of one folder; camid = the next running index from ``camids`` (LaST has no cameras)."""

    def make(path: Path, rel: str) -> Sample:
        return Sample(str(path), _tokens(path)[0], next(camids), relpath=rel)

    return read_split(base, sub, split, LAYOUT, "last", make, what=what, recursive=recursive)


def _eval_split(base: Path, which: str) -> tuple[list[Sample], list[Sample]]:
    """query and gallery of ``val`` or ``test``; camid = running index over query then gallery."""
    camids = count()
    query = _read(base, f"{which}/query", f"{which}/query", camids, what=f"{which} query")
    gallery = _read(
        base, f"{which}/gallery", f"{which}/gallery", camids, what=f"{which} gallery", recursive=True
    )
    require_valid_queries(query, gallery, "last", rule="same-pid")
    return query, gallery


class LaST(ReidDataset):
    """LaST: train 5,000 ids / 71,248 images; test query 10,176, gallery 125,353 (LaST paper)."""

    name = "last"
    evaluations = (EvalSpec("standard"),)

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(self.name, options, {"split": "test (default) or val: the evaluated split"})
        main = choice_option(self.name, options, "split", ("test", "val"), "test")
        other = "val" if main == "test" else "test"
        base = find_dataset_dir(
            root, dataset=self.name, folders=("last", "LaST"), markers=("train", main), layout=LAYOUT
        )
        train = _read(base, "train", "train", count(), recursive=True)
        keys = [_tokens(Path(s.path))[1] for s in train]
        clothes = label_keys(keys)
        train = [attrs.evolve(s, clothes_id=clothes[key]) for s, key in zip(train, keys)]
        query, gallery = _eval_split(base, main)
        extra: dict[str, list[Sample]] = {}
        evaluations = [EvalSpec("standard")]
        if (base / other).is_dir():
            extra[f"{other}_query"], extra[f"{other}_gallery"] = _eval_split(base, other)
            evaluations.append(
                EvalSpec("standard", query=f"{other}_query", gallery=f"{other}_gallery", name=other)
            )
        self.split_evaluated = main
        super().__init__(relabel(train), query, gallery, extra, evaluations=evaluations, root=str(base))
