"""RegDB (Nguyen et al. 2017): ``RegDB/{Visible,Thermal}/<id>/*.bmp`` and the trial lists
``RegDB/idx/{train,test}_{visible,thermal}_{1..10}.txt`` (lines ``<relative path> <label>``).

``--option trial=1..10`` (default 1) picks the lists; a model trained on trial t must be tested
on trial t only. The pid is the last ``_`` token of the basename (``male_back_v_05528_285.bmp``
-> 285); train pids relabelled 0..205, test pids raw. Camera: visible 0, thermal 1; modality
``visible`` / ``infrared``. All 2,060 gallery images are used. ``direction=v2t`` (default:
query visible, gallery thermal) or ``t2v`` sets the main metric; the other direction is the
second evaluation (query and gallery swapped).
"""

from __future__ import annotations

import os
from pathlib import Path

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset
from reid_core.datasets.layout import (
    check_options,
    choice_option,
    find_dataset_dir,
    int_option,
    read_list_file,
    relabel,
    require_nonempty,
    require_valid_queries,
    resolve_listed,
)

MODALITIES = {"visible": ("visible", 0), "thermal": ("infrared", 1)}
PATTERN = "<gender>_<front|back>_<v|t>_<number>_<id>.bmp, e.g. male_back_v_05528_285.bmp"
LAYOUT = """  <root>/RegDB/
    Visible/<id>/*.bmp   Thermal/<id>/*.bmp
    idx/train_visible_<t>.txt  idx/train_thermal_<t>.txt  idx/test_visible_<t>.txt  idx/test_thermal_<t>.txt
        (t = 1..10; lines: <relative path> <label>, e.g. Visible/285/male_back_v_05528_285.bmp 0)"""


def _pid(path: str) -> int:
    name = os.path.basename(path)
    try:
        return int(os.path.splitext(name)[0].split("_")[-1])
    except ValueError:
        raise DatasetError(f"regdb: cannot parse file name {name!r} ({path!r}); expected {PATTERN}") from None


def _read(base: Path, split: str, modality: str, trial: int) -> list[Sample]:
    list_file = base / "idx" / f"{split}_{modality}_{trial}.txt"
    if not list_file.is_file():
        raise DatasetError(
            f"regdb: missing list file {str(list_file)!r} for trial {trial}. Expected layout:\n{LAYOUT}"
        )
    name, camid = MODALITIES[modality]
    samples = []
    for line, fields in read_list_file(list_file, "regdb"):
        path, rel = resolve_listed(base, fields[0], list_file, line, "regdb")
        samples.append(Sample(path, _pid(path), camid, modality=name, relpath=rel))
    require_nonempty(samples, f"{split} {modality}", list_file, "regdb")
    return samples


class RegDB(ReidDataset):
    """RegDB: 412 ids x (10 visible + 10 thermal); per trial 206 train ids (2,060 + 2,060) and 206 test ids."""

    name = "regdb"
    trial_option = "trial"

    def __init__(self, root: str | None = None, **options: str) -> None:
        check_options(
            self.name,
            options,
            {
                "trial": "1..10 (default 1)",
                "direction": "v2t (default: visible query) or t2v (thermal query)",
            },
        )
        trial = int_option(self.name, options, "trial", 1, 1, 10)
        direction = choice_option(self.name, options, "direction", ("v2t", "t2v"), "v2t")
        base = find_dataset_dir(
            root, dataset=self.name, folders=("RegDB",), markers=("Visible", "Thermal", "idx"), layout=LAYOUT
        )
        train = relabel(_read(base, "train", "visible", trial) + _read(base, "train", "thermal", trial))
        visible, thermal = _read(base, "test", "visible", trial), _read(base, "test", "thermal", trial)
        query, gallery = (visible, thermal) if direction == "v2t" else (thermal, visible)
        require_valid_queries(query, gallery, self.name)
        first, second = ("visible-to-thermal", "thermal-to-visible")[:: 1 if direction == "v2t" else -1]
        evaluations = [
            EvalSpec("regdb", name=first),
            EvalSpec("regdb", query="gallery", gallery="query", name=second),
        ]
        self.trial = trial
        super().__init__(train, query, gallery, evaluations=evaluations, root=str(base))
