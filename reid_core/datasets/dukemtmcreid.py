"""DukeMTMC-reID: ``DukeMTMC-reID/{bounding_box_train,query,bounding_box_test}/*.jpg``.

Names ``PPPP_cC_fFFFFFFF.jpg``; 8 cameras, 0-based; no junk files; the gallery holds 408
distractor identities (ordinary negatives); train pids relabelled 0..701.
"""

from __future__ import annotations

from reid_core.datasets.market_style import MarketStyle, MarketStyleDataset


class DukeMTMCreID(MarketStyleDataset):
    """DukeMTMC-reID (Zheng et al. 2017): 702 train ids / 16,522 images, query 2,228, gallery 17,661."""

    name = "dukemtmcreid"
    folders = ("DukeMTMC-reID",)
    aliases = ("dukemtmc-reid", "dukemtmc")
    style = MarketStyle(
        "dukemtmcreid", num_cams=8, pattern="<pid>_c<cam>_f<frame>.jpg, e.g. 0005_c2_f0046985.jpg"
    )
