"""PersonX: ``PersonX/{bounding_box_train,query,bounding_box_test}/*.jpg``.

Names ``<pid>_c<cam>_<n>.jpg`` (regex ``([-\\d]+)_c([-\\d]+)`` on the basename); the six cameras
{3, 4, 8, 10, 11, 12} map to 0..5 and any other camera is an error; no junk filtering (as in
ICSR's loader); train pids relabelled 0..N-1.
"""

from __future__ import annotations

import re

from reid_core.datasets.base import EvalSpec, ReidDataset
from reid_core.datasets.layout import check_options, find_dataset_dir, require_valid_queries
from reid_core.datasets.market_style import AP_OPTION, MarketStyle, market_evaluations

FOLDERS = ("PersonX",)
CAMERAS = (3, 4, 8, 10, 11, 12)
STYLE = MarketStyle(
    "personx",
    regex=re.compile(r"^(-?\d+)_c(-?\d+)"),
    pattern="<pid>_c<cam>_<n>.jpg with cam in {3,4,8,10,11,12}, e.g. 12_c3_7.jpg",
    cameras={c: i for i, c in enumerate(CAMERAS)},
    drop_junk=False,
)


class PersonX(ReidDataset):
    """PersonX (Sun and Zheng 2019), synthetic persons: train 9,840 images, query 5,136, gallery 30,816."""

    name = "personx"
    evaluations = (EvalSpec("market"),)

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(self.name, options, AP_OPTION)
        base = find_dataset_dir(
            root,
            dataset=self.name,
            folders=FOLDERS,
            markers=("bounding_box_train", "query", "bounding_box_test"),
            layout=STYLE.layout(FOLDERS[0]),
        )
        splits = STYLE.load(base, FOLDERS[0])
        require_valid_queries(splits["query"], splits["gallery"], self.name)
        super().__init__(
            splits["train"],
            splits["query"],
            splits["gallery"],
            evaluations=market_evaluations(self.name, options),
            root=str(base),
        )
