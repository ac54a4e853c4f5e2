"""The ``[icsr]`` config section and the ``paper`` / ``quick`` profiles."""

from __future__ import annotations

from typing import Any

import attrs

from reid_core.config import between, non_negative, one_of, positive

STAGES = ("all", "intra", "inter")
NODE_RULES = ("argmax", "last_above_mean")
REFINE_ORDERS = ("sequential", "simultaneous")

#: Global cluster counts the released code fixes per data set (``train_global.py`` hard-codes 1200,
#: written for MSMT17, 1,041 training ids). Other data sets get ``N // inter_ratio``.
CODE_N_CLUSTERS: dict[str, int] = {"msmt17": 1200}


def default_n_clusters(dataset: str) -> int:
    """The global cluster count of ``dataset`` when ``icsr.n_clusters`` is 0 (0 = from ``inter_ratio``)."""
    return CODE_N_CLUSTERS.get(dataset, 0)


@attrs.frozen
class ICSRConfig:
    """ICSR's recipe; defaults are the released code's (``train_cam.py`` / ``train_global.py``)."""

    #: ``all`` = intra-camera stages then the inter-camera stage; ``intra`` or ``inter`` alone.
    stage: str = attrs.field(default="all", validator=one_of(*STAGES))
    #: Partition file for ``stage = "inter"`` (a ``local_labels.json`` written by the intra stage).
    local_labels: str = ""
    # -- network (one backbone per stage: the README trains stage 1 with ResNet-50, stage 2 with IBN-ResNet-50)
    intra_arch: str = "resnet50"
    inter_arch: str = "resnet50-ibn-a"
    pretrained: str = "imagenet"
    pooling: str = "gem"
    backbone_width: int = attrs.field(default=64, validator=positive)
    # -- optimisation (both stages; each stage restarts from the pretrained weights)
    lr: float = attrs.field(default=3.5e-4, validator=positive)
    weight_decay: float = attrs.field(default=5e-4, validator=non_negative)
    step_size: int = attrs.field(default=20, validator=positive)
    gamma: float = attrs.field(default=0.1, validator=positive)
    # -- cluster memory
    temp: float = attrs.field(default=0.05, validator=positive)
    use_hard: bool = False
    # -- k-reciprocal Jaccard distance
    k1: int = attrs.field(default=30, validator=positive)
    k2: int = attrs.field(default=6, validator=positive)
    # -- stage 1: one cluster-contrast run per camera
    intra_epochs: int = attrs.field(default=20, validator=positive)
    intra_iters: int = attrs.field(default=100, validator=positive)
    intra_momentum: float = attrs.field(default=0.2, validator=between(0.0, 1.0))
    #: n_clusters = N_c // intra_ratio (about 5 images per identity per camera)
    intra_ratio: float = attrs.field(default=5.0, validator=positive)
    # -- stage 2: all cameras, refined global clusters
    inter_epochs: int = attrs.field(default=50, validator=positive)
    inter_iters: int = attrs.field(default=400, validator=positive)
    inter_momentum: float = attrs.field(default=0.1, validator=between(0.0, 1.0))
    #: global clusters; 0 = the data set's value in CODE_N_CLUSTERS (msmt17: 1200, the released code's),
    #: else from ``inter_ratio``
    n_clusters: int = attrs.field(default=0, validator=non_negative)
    #: >= 1: images per cluster (n = N // ratio); < 1: clusters per image (n = N * ratio)
    inter_ratio: float = attrs.field(default=17.0, validator=positive)
    #: the refinement itself; false = plain cluster-contrast with the same pipeline (ablation)
    refine: bool = True
    #: ``sequential`` (the released code: nodes in order, each sees the removals of the earlier ones)
    #: or ``simultaneous`` (every node filters the labels taken before any removal; removes more)
    refine_order: str = attrs.field(default="sequential", validator=one_of(*REFINE_ORDERS))
    # -- information nodes (Infomap on the kNN graph)
    infomap_k: int = attrs.field(default=15, validator=positive)
    infomap_min_sim: float = attrs.field(default=0.5, validator=between(0.0, 1.0))
    infomap_min_size: int = attrs.field(default=4, validator=non_negative)
    info_node: str = attrs.field(default="argmax", validator=one_of(*NODE_RULES))
    #: without the ``infomap`` package: false = an error; true = information nodes per global cluster
    #: (not the paper's method; only when asked for)
    infomap_fallback: bool = False


PROFILES: dict[str, dict[str, Any]] = {
    # The released code's README: stage 1 ResNet-50, stage 2 IBN-ResNet-50, GeM, 256x128, batch 64 = 16 x 4,
    # 20 x 100 then 50 x 400 iterations (the README's Market command uses 200).
    "paper": {
        "data": {"height": 256, "width": 128, "batch_size": 64, "num_instances": 4},
        "icsr": {"intra_arch": "resnet50", "inter_arch": "resnet50-ibn-a", "pretrained": "imagenet",
                 "intra_epochs": 20, "intra_iters": 100,
                 "inter_epochs": 50, "inter_iters": 400},
    },
    # A CPU demo of both stages on the synthetic preset (no pretrained weights, tiny network and images).
    # The preset has about 2.3 images per identity per camera and 13.6 per identity (the paper's ratios,
    # 5 and 17, assume Market-1501's), hence intra_ratio 2.5 and inter_ratio 14.
    "quick": {
        "data": {"height": 64, "width": 32, "batch_size": 32, "num_instances": 4, "num_workers": 0,
                 "eval_batch_size": 128},
        "icsr": {"intra_arch": "resnet18", "inter_arch": "resnet18", "pretrained": "none", "backbone_width": 16, "lr": 1e-3,
                 "intra_epochs": 2, "intra_iters": 4, "inter_epochs": 4, "inter_iters": 10, "step_size": 20,
                 "k1": 20, "k2": 6, "infomap_k": 10, "intra_ratio": 2.5, "inter_ratio": 14.0},
    },
}
