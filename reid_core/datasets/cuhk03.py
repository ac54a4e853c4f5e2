"""CUHK03-NP (the new 767/700 protocol of Zhong et al.): ``cuhk03-np/{labeled,detected}/
{bounding_box_train,query,bounding_box_test}/*.png``.

Market-style names ``PPPP_cC_NN.png`` with two cameras; ``--option variant=labeled`` (default)
or ``variant=detected``. ``--root`` may also point at ``cuhk03-np/labeled`` (or ``detected``)
itself, as the camera-mixup code does; the variant then follows the folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from reid_core.datasets.base import DatasetError
from reid_core.datasets.layout import choice_option, find_dataset_dir
from reid_core.datasets.market_style import AP_OPTION, MarketStyle, MarketStyleDataset

VARIANTS = ("labeled", "detected")
SPLIT_MARKERS = ("bounding_box_train", "query", "bounding_box_test")
LAYOUT = """  <root>/cuhk03-np/
    labeled/{bounding_box_train,query,bounding_box_test}/*.png   (PPPP_cC_NN.png)
    detected/{bounding_box_train,query,bounding_box_test}/*.png"""


class CUHK03(MarketStyleDataset):
    """CUHK03-NP: labeled train 7,368 / 767 ids, query 1,400, gallery 5,328 (detected 7,365 / 1,400 / 5,332)."""

    name = "cuhk03"
    folders = ("cuhk03-np", "cuhk03_np", "CUHK03-NP")
    style = MarketStyle(
        "cuhk03", num_cams=2, pattern="<pid>_c<cam>_<n>.png with cam 1 or 2, e.g. 0001_c1_1.png"
    )
    options_help: Mapping[str, str] = {"variant": "labeled (default) or detected", **AP_OPTION}

    def locate(self, root: str | None, options: Mapping[str, str]) -> tuple[Path, str]:
        """``cuhk03-np/<variant>/`` below ``--root``, or ``--root`` itself when it is a variant folder."""
        explicit = "variant" in options
        variant = choice_option(self.name, options, "variant", VARIANTS, "labeled")
        own = Path(root).expanduser() if root else None
        if own is not None and own.name in VARIANTS and all((own / m).is_dir() for m in SPLIT_MARKERS):
            if explicit and own.name != variant:
                raise DatasetError(
                    f"cuhk03: --root {str(own)!r} is the {own.name} folder but variant={variant} was asked; "
                    "point --root at the folder holding cuhk03-np/ to choose the variant"
                )
            self.variant = own.name
            return Path(os.path.abspath(own.parent)), f"{own.name}/"
        base = find_dataset_dir(
            root,
            dataset=self.name,
            folders=self.folders,
            markers=tuple(f"{variant}/{m}" for m in SPLIT_MARKERS),
            layout=LAYOUT,
        )
        self.variant = variant
        return base, f"{variant}/"
