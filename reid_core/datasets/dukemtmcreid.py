"""DukeMTMC-reID: ``DukeMTMC-reID/{bounding_box_train,query,bounding_box_test}/*.jpg``.

Names ``PPPP_cC_fFFFFFFF.jpg``; 8 cameras, 0-based; no junk files; the gallery holds 408
distractor identities (ordinary negatives); train pids relabelled 0..701.
"""

from __future__ import annotations

from reid_core.datasets.base import EvalSpec, ReidDataset
from reid_core.datasets.layout import check_options, find_dataset_dir, require_valid_queries
from reid_core.datasets.market_style import AP_OPTION, MarketStyle, market_evaluations

FOLDERS = ("DukeMTMC-reID",)
STYLE = MarketStyle(
    "dukemtmcreid", num_cams=8, pattern="<pid>_c<cam>_f<frame>.jpg, e.g. 0005_c2_f0046985.jpg"
)


class DukeMTMCreID(ReidDataset):
    """DukeMTMC-reID (Zheng et al. 2017): 702 train ids / 16,522 images, query 2,228, gallery 17,661."""

    name = "dukemtmcreid"
    evaluations = (EvalSpec("market"),)

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(self.name, options, AP_OPTION)
        base = find_dataset_dir(
            root,
            dataset=self.name,
            folders=FOLDERS,
            markers=("bounding_box_train", "query", "bounding_box_test"),
            layout=STYLE.layout(FOLDERS[0]),
            aliases=("dukemtmc-reid", "dukemtmc"),
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
