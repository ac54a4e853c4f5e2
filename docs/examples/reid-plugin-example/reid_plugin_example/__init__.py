"""A minimal reid plugin: a flat-folder data set and a focal loss."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reid_core import DatasetError, EvalSpec, ReidDataset, Sample, hookimpl

NAME = re.compile(r"^(\d+)_c(\d+)_")


def _read(folder: Path, relabel: bool) -> list[Sample]:
    if not folder.is_dir():
        raise DatasetError(f"missing folder {folder}: expected <root>/flat/{{train,query,gallery}}/<pid>_c<cam>_*.jpg")
    samples = []
    for path in sorted(folder.glob("*.jpg")):
        match = NAME.match(path.name)
        if match is None:
            raise DatasetError(f"{path}: file name does not match <pid>_c<cam>_<anything>.jpg")
        samples.append(Sample(str(path), int(match.group(1)), int(match.group(2)) - 1))
    if relabel:
        ids = {pid: i for i, pid in enumerate(sorted({s.pid for s in samples}))}
        samples = [Sample(s.path, ids[s.pid], s.camid) for s in samples]
    return samples


class FlatFolder(ReidDataset):
    """``<root>/flat/{train,query,gallery}/<pid>_c<cam>_*.jpg``."""

    name = "example-flat"
    evaluations = (EvalSpec("market"),)

    def __init__(self, root: str | None, **options: str) -> None:
        if root is None:
            raise DatasetError("example-flat needs --root: the folder that holds flat/")
        base = Path(root) / "flat"
        super().__init__(
            _read(base / "train", relabel=True), _read(base / "query", False), _read(base / "gallery", False), root=root
        )


class FocalLoss(nn.Module):
    """Cross-entropy that down-weights easy examples (Lin et al. 2017)."""

    def __init__(self, gamma: float = 2.0) -> None:
        super().__init__()
        self.gamma = gamma

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        log_p = torch.log_softmax(logits, dim=1).gather(1, targets[:, None]).squeeze(1)
        return (-(1 - log_p.exp()) ** self.gamma * log_p).mean()


@hookimpl
def reid_register_datasets(register: Any) -> None:
    register("example-flat", FlatFolder, description="Market-style names in one flat folder per split")


@hookimpl
def reid_register_losses(register: Any) -> None:
    register("focal", FocalLoss, description="focal loss (gamma=2)")
