"""Market-1501: ``Market-1501-v15.09.15/{bounding_box_train,query,bounding_box_test}/*.jpg``.

Names ``PPPP_cCsS_FFFFFF_NN.jpg``; pid -1 (junk boxes) is dropped, pid 0000 (distractors) is kept
in the gallery as an ordinary negative; 6 cameras, 0-based; train pids relabelled 0..750.
"""

from __future__ import annotations

from reid_core.datasets.base import EvalSpec, ReidDataset
from reid_core.datasets.layout import check_options, find_dataset_dir, require_valid_queries
from reid_core.datasets.market_style import AP_OPTION, MarketStyle, market_evaluations

FOLDERS = ("Market-1501-v15.09.15", "Market-1501")
STYLE = MarketStyle(
    "market1501", num_cams=6, pattern="<pid>_c<cam>s<seq>_<frame>_<box>.jpg, e.g. 0002_c1s1_000451_03.jpg"
)


class Market1501(ReidDataset):
    """Market-1501 (Zheng et al. 2015): 751 train ids / 12,936 images, query 3,368, gallery 15,913."""

    name = "market1501"
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
