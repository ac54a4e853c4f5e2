"""The ``[icsr]`` config section and the ``paper`` / ``quick`` profiles."""

from __future__ import annotations

from typing import Any

import attrs

from reid_core.config import between, non_negative, one_of, positive

STAGES = ("all", "intra", "inter")
NODE_RULES = ("argmax", "last_above_mean")


@attrs.frozen
class ICSRConfig:
    """ICSR's recipe; defaults are the released code's (``train_cam.py`` / ``train_global.py``)."""

    #: ``all`` = intra-camera stages then the inter-camera stage; ``intra`` or ``inter`` alone.
    stage: str = attrs.field(default="all", validator=one_of(*STAGES))
    #: Partition file for ``stage = "inter"`` (a ``local_labels.json`` written by the intra stage).
    local_labels: str = ""
    # -- network
    arch: str = "resnet50-ibn-a"
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
    #: global clusters; 0 = from ``inter_ratio`` (the released code hard-codes 1200, for MSMT17)
    n_clusters: int = attrs.field(default=0, validator=non_negative)
    #: >= 1: images per cluster (n = N // ratio); < 1: clusters per image (n = N * ratio)
    inter_ratio: float = attrs.field(default=17.0, validator=positive)
    #: the refinement itself; false = plain cluster-contrast with the same pipeline (ablation)
    refine: bool = True
    # -- information nodes (Infomap on the kNN graph)
    infomap_k: int = attrs.field(default=15, validator=positive)
    infomap_min_sim: float = attrs.field(default=0.5, validator=between(0.0, 1.0))
    infomap_min_size: int = attrs.field(default=4, validator=non_negative)
    info_node: str = attrs.field(default="argmax", validator=one_of(*NODE_RULES))


PROFILES: dict[str, dict[str, Any]] = {
    # The released code: IBN-ResNet-50 + GeM, 256x128, batch 64 = 16 x 4, 20 x 100 then 50 x 400 iterations.
    "paper": {
        "data": {"height": 256, "width": 128, "batch_size": 64, "num_instances": 4},
        "icsr": {"arch": "resnet50-ibn-a", "pretrained": "imagenet", "intra_epochs": 20, "intra_iters": 100,
                 "inter_epochs": 50, "inter_iters": 400},
    },
    # A CPU demo of both stages on the synthetic preset (no pretrained weights, tiny network and images).
    # The preset has about 2.3 images per identity per camera and 13.6 per identity (the paper's ratios,
    # 5 and 17, assume Market-1501's), hence intra_ratio 2.5 and inter_ratio 14.
    "quick": {
        "data": {"height": 64, "width": 32, "batch_size": 32, "num_instances": 4, "num_workers": 0,
                 "eval_batch_size": 128},
        "icsr": {"arch": "resnet18", "pretrained": "none", "backbone_width": 16, "lr": 1e-3,
                 "intra_epochs": 2, "intra_iters": 4, "inter_epochs": 4, "inter_iters": 10, "step_size": 20,
                 "k1": 20, "k2": 6, "infomap_k": 10, "intra_ratio": 2.5, "inter_ratio": 14.0},
    },
}
