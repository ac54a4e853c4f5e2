"""Cross-domain runs: a labelled *source* data set trains, an unlabelled *target* data set is
adapted to and evaluated.

``reid run METHOD --dataset TARGET --source SOURCE`` builds a :class:`CrossDomainDataset`, so
that every method works unchanged: ``train`` is the source's labelled train split (a supervised
method trains on it, which gives the direct-transfer baseline), ``query``, ``gallery``, the extra
splits and the evaluations are the target's, and ``target_train`` is the target's train split
with the identity labels removed (``pid = -1``, no ``clothes_id``): only images and cameras reach
the method. Domain-adaptive methods use both.
"""

from __future__ import annotations

from typing import Any

import attrs

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, ReidDataset


def unlabelled(samples: list[Sample]) -> list[Sample]:
    """``samples`` without identity labels: ``pid = -1`` and no ``clothes_id`` (path, camera,
    modality, domain and keypoints kept)."""
    return [attrs.evolve(s, pid=-1, clothes_id=None) for s in samples]


class CrossDomainDataset(ReidDataset):
    """A source data set's labelled train split with a target data set's unlabelled train split and
    test splits (see the module docstring).

    Args:
        source: the labelled data set (only its ``train`` split is used).
        target: the data set adapted to and evaluated on.
        source_name, target_name: the registered names (for logs and ``stats``).
    """

    def __init__(self, source: ReidDataset, target: ReidDataset, *, source_name: str, target_name: str) -> None:
        if not source.train:
            raise DatasetError(f"source data set {source_name!r} has no training images")
        if not target.train:
            raise DatasetError(
                f"target data set {target_name!r} has no train split to adapt to; a cross-domain run "
                "needs the target's (unlabelled) training images"
            )
        super().__init__(
            list(source.train),
            list(target.query),
            list(target.gallery),
            dict(target.extra),
            evaluations=target.evaluations,
            root=target.root,
        )
        self.name = target_name
        self.source_name = source_name
        self.source_root = source.root
        #: The target's train split without identity labels (pid -1): images and cameras only.
        self.target_train: list[Sample] = unlabelled(list(target.train))

    def split(self, name: str) -> list[Sample]:
        """As :meth:`ReidDataset.split`, plus ``target_train``."""
        if name == "target_train":
            return self.target_train
        return super().split(name)

    def split_names(self) -> list[str]:
        return ["train", "target_train", "query", "gallery", *self.extra]

    @property
    def num_target_cams(self) -> int:
        """Cameras of the target's train split."""
        return len({s.camid for s in self.target_train})


def require_cross_domain(dataset: Any, method: str) -> CrossDomainDataset:
    """``dataset`` as a :class:`CrossDomainDataset`, or a one-line error telling how to name a source."""
    if not isinstance(dataset, CrossDomainDataset):
        raise DatasetError(
            f"method {method!r} adapts a labelled source data set to an unlabelled target one: name the "
            f"source with --source NAME (and --source-root DIR), or data.source in the TOML config"
        )
    return dataset
