"""Market-1501: ``Market-1501-v15.09.15/{bounding_box_train,query,bounding_box_test}/*.jpg``.

Names ``PPPP_cCsS_FFFFFF_NN.jpg``; pid -1 (junk boxes) is dropped, pid 0000 (distractors) is kept
in the gallery as an ordinary negative; 6 cameras, 0-based; train pids relabelled 0..750.
"""

from __future__ import annotations

from reid_core.datasets.market_style import MarketStyle, MarketStyleDataset


class Market1501(MarketStyleDataset):
    """Market-1501 (Zheng et al. 2015): 751 train ids / 12,936 images, query 3,368, gallery 15,913."""

    name = "market1501"
    folders = ("Market-1501-v15.09.15", "Market-1501")
    style = MarketStyle(
        "market1501", num_cams=6, pattern="<pid>_c<cam>s<seq>_<frame>_<box>.jpg, e.g. 0002_c1s1_000451_03.jpg"
    )
