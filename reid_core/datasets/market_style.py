"""The three-folder layout shared by Market-1501, DukeMTMC-reID, CUHK03-NP, PersonX and ``folder``:
``bounding_box_train/``, ``query/``, ``bounding_box_test/`` with ``<pid>_c<cam>...`` file names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import attrs

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset
from reid_core.datasets.layout import (
    check_options,
    choice_option,
    find_dataset_dir,
    parse_basename,
    read_split,
    relabel,
    require_valid_queries,
)

#: The option every Market-family data set takes: which average precision the evaluation reports.
AP_OPTION = {
    "ap": "non-interpolated (default; torchreid, CAL, ICSR) or trapezoid (Market-1501's official AP, camera-mixup)"
}


def market_evaluations(dataset: str, options: Mapping[str, str]) -> list[EvalSpec]:
    """The ``market`` evaluation, with ``ap=trapezoid`` passed on when asked for."""
    ap = choice_option(dataset, options, "ap", ("non-interpolated", "trapezoid"), "non-interpolated")
    return [EvalSpec("market", options={} if ap == "non-interpolated" else {"ap": ap})]


MARKET_SPLITS = (("train", "bounding_box_train"), ("query", "query"), ("gallery", "bounding_box_test"))


@attrs.frozen
class MarketStyle:
    """How one data set's three folders are named and parsed.

    Args:
        dataset: registered name (messages).
        regex: matched against the basename; group 1 = pid, group 2 = raw camera.
        pattern: the naming shown in errors.
        num_cams: raw cameras are 1..num_cams (0-based = raw - 1), unless ``cameras`` is set.
        cameras: explicit raw camera -> 0-based id map (PersonX's {3,4,8,10,11,12}).
        drop_junk: drop pid -1 (Market's junk boxes).
        splits: (split name, folder name) pairs.
    """

    dataset: str
    regex: re.Pattern[str] = re.compile(r"^(-?\d+)_c(\d+)")
    pattern: str = "<pid>_c<cam>_<...>.jpg, e.g. 0002_c1s1_000451_03.jpg"
    num_cams: int = 6
    cameras: Mapping[int, int] | None = None
    drop_junk: bool = True
    splits: tuple[tuple[str, str], ...] = MARKET_SPLITS

    def camid(self, raw: int, path: Path) -> int:
        """The 0-based camera of a raw camera number, or an error naming the file."""
        if self.cameras is not None:
            if raw not in self.cameras:
                raise DatasetError(
                    f"{self.dataset}: camera c{raw} of {str(path)!r} is not one of the data set's cameras "
                    f"{sorted(self.cameras)}"
                )
            return self.cameras[raw]
        if not 1 <= raw <= self.num_cams:
            raise DatasetError(
                f"{self.dataset}: camera c{raw} of {str(path)!r} is outside 1..{self.num_cams}; expected {self.pattern}"
            )
        return raw - 1

    def layout(self, folder: str) -> str:
        """The expected tree, for error messages."""
        names = "  ".join(f"{f}/" for _, f in self.splits)
        return f"  <root>/{folder}/\n    {names}   (images named {self.pattern})"

    def sample(self, path: Path, rel: str) -> Sample | None:
        """The sample a file name describes, or None for a junk box the data set drops."""
        match = parse_basename(path, self.regex, self.pattern, self.dataset)
        pid = int(match.group(1))
        if pid == -1 and self.drop_junk:
            return None
        return Sample(path=str(path), pid=pid, camid=self.camid(int(match.group(2)), path), relpath=rel)

    def parse_split(self, base: Path, sub: str, split: str, folder_name: str) -> list[Sample]:
        """The samples of one split folder (junk dropped where the data set has it)."""
        return read_split(base, sub, split, self.layout(folder_name), self.dataset, self.sample)

    def load(self, base: Path, folder_name: str, prefix: str = "") -> dict[str, list[Sample]]:
        """All splits under ``base/prefix``; the train split relabelled 0..N-1."""
        out = {}
        for split, sub in self.splits:
            samples = self.parse_split(base, f"{prefix}{sub}", split, folder_name)
            out[split] = relabel(samples) if split == "train" else samples
        return out


class MarketStyleDataset(ReidDataset):
    """A data set in the three Market folders, evaluated with the ``market`` protocol.

    Subclasses set ``name``, ``style`` (naming, cameras, junk rule) and ``folders`` (the data set's
    folder names, the official one first), plus ``aliases`` (torchreid's intermediate folders) and
    ``options_help`` when they take more options than ``ap``; :meth:`locate` may be overridden
    when the splits lie below a sub-folder (CUHK03-NP's ``labeled/``).
    """

    evaluations = (EvalSpec("market"),)
    style: MarketStyle
    folders: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    options_help: Mapping[str, str] = AP_OPTION

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(self.name, options, self.options_help)
        base, prefix = self.locate(root, options)
        splits = self.style.load(base, self.folders[0], prefix=prefix)
        require_valid_queries(splits["query"], splits["gallery"], self.name)
        super().__init__(
            splits["train"],
            splits["query"],
            splits["gallery"],
            evaluations=market_evaluations(self.name, options),
            root=str(base),
        )

    def locate(self, root: str | None, options: Mapping[str, str]) -> tuple[Path, str]:
        """The data set's folder found from ``--root``, and the prefix of its split folders."""
        base = find_dataset_dir(
            root,
            dataset=self.name,
            folders=self.folders,
            markers=tuple(sub for _, sub in self.style.splits),
            layout=self.style.layout(self.folders[0]),
            aliases=self.aliases,
        )
        return base, ""
