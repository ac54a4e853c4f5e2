"""The list of public data set parsers registered by the core."""

from __future__ import annotations

from typing import Any

from reid_core.datasets.celebreid import CelebReID, CelebReIDLight
from reid_core.datasets.cuhk03 import CUHK03
from reid_core.datasets.dukemtmcreid import DukeMTMCreID
from reid_core.datasets.folder import FolderDataset
from reid_core.datasets.last import LaST
from reid_core.datasets.ltcc import LTCC
from reid_core.datasets.market1501 import Market1501
from reid_core.datasets.msmt17 import MSMT17
from reid_core.datasets.personx import PersonX
from reid_core.datasets.prcc import PRCC
from reid_core.datasets.regdb import RegDB
from reid_core.datasets.sysumm01 import SYSUMM01

#: name -> (parser class, description); the order is the documentation's.
PARSERS: dict[str, tuple[type, str]] = {
    "market1501": (Market1501, "Market-1501 (751/750 ids, 6 cameras)"),
    "dukemtmcreid": (DukeMTMCreID, "DukeMTMC-reID (702/1,110 ids, 8 cameras)"),
    "cuhk03": (CUHK03, "CUHK03-NP 767/700 (option variant=labeled|detected)"),
    "msmt17": (MSMT17, "MSMT17 V1 (train = list_train + list_val, 15 cameras)"),
    "personx": (PersonX, "PersonX synthetic persons (cameras 3,4,8,10,11,12)"),
    "prcc": (PRCC, "PRCC cloth-changing (221 ids, 3 cameras; RGB)"),
    "ltcc": (LTCC, "LTCC cloth-changing (152 ids, 12 cameras)"),
    "last": (LaST, "LaST cloth-changing (option split=test|val)"),
    "celebreid": (CelebReID, "Celeb-reID cloth-changing (option light=true)"),
    "celebreid-light": (CelebReIDLight, "Celeb-reID-light (590 ids)"),
    "regdb": (RegDB, "RegDB visible-thermal (option trial=1..10)"),
    "sysumm01": (SYSUMM01, "SYSU-MM01 visible-infrared (option mode=all|indoor)"),
    "folder": (FolderDataset, "your own data: Market-style names in train/query/gallery, or option csv=FILE"),
}


def register_parsers(register: Any) -> None:
    """Register every public data set parser and the ``folder`` format."""
    for name, (cls, description) in PARSERS.items():
        register(name, cls, description=description)
