"""PersonX: ``PersonX/{bounding_box_train,query,bounding_box_test}/*.jpg``.

Names ``<pid>_c<cam>_<n>.jpg`` (regex ``([-\\d]+)_c([-\\d]+)`` on the basename); the six cameras
{3, 4, 8, 10, 11, 12} map to 0..5 and any other camera is an error; no junk filtering (as in
ICSR's loader); train pids relabelled 0..N-1.
"""

from __future__ import annotations

import re

from reid_core.datasets.market_style import MarketStyle, MarketStyleDataset

CAMERAS = (3, 4, 8, 10, 11, 12)


class PersonX(MarketStyleDataset):
    """PersonX (Sun and Zheng 2019), synthetic persons: train 9,840 images, query 5,136, gallery 30,816."""

    name = "personx"
    folders = ("PersonX",)
    style = MarketStyle(
        "personx",
        regex=re.compile(r"^(-?\d+)_c(-?\d+)"),
        pattern="<pid>_c<cam>_<n>.jpg with cam in {3,4,8,10,11,12}, e.g. 12_c3_7.jpg",
        cameras={c: i for i, c in enumerate(CAMERAS)},
        drop_junk=False,
    )
