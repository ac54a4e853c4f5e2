"""The ``icsr`` method: intra-camera stages (one per camera) then the inter-camera stage (ICSR, ICIP 2023).

Stage ``intra-cam<k>``: cluster-contrast on camera k's images only; every epoch the features are
clustered (average-linkage agglomerative on the k-reciprocal Jaccard distance, ``N_k // ratio``
clusters) and the partition of the epoch with the best silhouette is kept; at the stage end it
is merged into ``<output>/local_labels.json`` (atomically). Stage ``inter``: every epoch a global
agglomerative clustering, information nodes from Infomap, refinement of each global cluster with
the local partition of its information node's camera, relabelling, a memory rebuilt from the
centroids and the ClusterNCE loss. See the plugin README for the deviations from the released code.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reid_core.cluster import (
    ClusterMemory,
    cluster_centroids,
    num_clusters,
    pairwise_precision_recall,
    relabel,
)
from reid_core.config import ConfigError
from reid_core.methods.base import Method, Stage
from reid_plugin_icsr.clustering import agglomerative, resolve_n_clusters, silhouette
from reid_plugin_icsr.config import PROFILES, ICSRConfig, default_n_clusters
from reid_plugin_icsr.info_nodes import INFOMAP_MISSING, information_nodes
from reid_plugin_icsr.model import ICSRNet
from reid_plugin_icsr.partition import FILENAME, local_labels_for, read_partitions, write_partitions
from reid_plugin_icsr.refine import refine_labels

__all__ = ["ICSRMethod"]

log = logging.getLogger(__name__)

INTRA_PREFIX = "intra-cam"
INTER = "inter"
#: cameras with fewer training images get no intra-camera stage (one cluster per image)
MIN_CAMERA_IMAGES = 2


def jaccard(features: torch.Tensor, k1: int, k2: int) -> np.ndarray:
    """The core's k-reciprocal Jaccard distance (``N x N`` float32) of L2-normalised features."""
    from reid_core.neighbors import jaccard_distance

    return np.asarray(jaccard_distance(features, k1=k1, k2=k2), dtype=np.float32)


class ICSRMethod(Method):
    """ICSR: pseudo-label refinement with intra-camera similarity (Li et al., ICIP 2023)."""

    name = "icsr"
    config_class = ICSRConfig
    profiles = PROFILES
    default_dataset = "synthetic"
    eval_metric = "euclidean"
    identity_batches = False  # batches come from the pseudo labels (camera-aware sampler), not the train pids

    def __init__(self, config: Any, context: Any) -> None:
        super().__init__(config, context)
        self.train_samples = list(context.dataset.train)
        self.cameras = sorted({int(s.camid) for s in self.train_samples})
        #: finished local partitions: camera -> {image key: label}
        self.partitions: dict[int, dict[str, int]] = {}
        # a camera with a single image cannot fill a batch: its partition is that image alone, untrained
        counts = Counter(int(s.camid) for s in self.train_samples)
        self.trained_cameras = [cam for cam in self.cameras if counts[cam] >= MIN_CAMERA_IMAGES]
        for cam in self.cameras:
            if counts[cam] < MIN_CAMERA_IMAGES:
                keys = [s.key for s in self.train_samples if int(s.camid) == cam]
                self.partitions[cam] = {key: i for i, key in enumerate(keys)}
        self.stage_samples: list[Any] = []
        self.labels: np.ndarray | None = None  # this epoch's pseudo labels of stage_samples
        self.best_silhouette = -math.inf
        self.best_labels: np.ndarray | None = None
        self.local: np.ndarray | None = None  # inter stage: local label of every train image
        self.memory: ClusterMemory | None = None
        self.momentum = self.cfg.intra_momentum
        self.model: Any = None
        self.last_stats: dict[str, float] = {}
        self._check_infomap()

    def _check_infomap(self) -> None:
        """Refinement without the ``infomap`` package is an error (before anything runs), unless the
        fallback was asked for explicitly."""
        cfg = self.cfg
        if cfg.refine and cfg.stage in ("all", "inter") and not cfg.infomap_fallback \
                and importlib.util.find_spec("infomap") is None:
            raise ConfigError(INFOMAP_MISSING)

    def global_clusters(self) -> int:
        """``icsr.n_clusters`` if set, else the data set's released-code value (0 = from ``inter_ratio``)."""
        return int(self.cfg.n_clusters) or default_n_clusters(str(self.config.data.dataset))

    # -- structure --------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        """``intra-cam<k>`` for every camera with >= 2 images (stage all/intra), then ``inter`` (all/inter)."""
        out = []
        if self.cfg.stage in ("all", "intra"):
            out += [Stage(f"{INTRA_PREFIX}{cam}", self.cfg.intra_epochs, self.cfg.intra_iters)
                    for cam in self.trained_cameras]
        if self.cfg.stage in ("all", "inter"):
            out.append(Stage(INTER, self.cfg.inter_epochs, self.cfg.inter_iters))
        return out

    @staticmethod
    def stage_camera(stage: Stage) -> int | None:
        """The camera of an intra-camera stage, ``None`` for the inter stage."""
        return int(stage.name[len(INTRA_PREFIX):]) if stage.name.startswith(INTRA_PREFIX) else None

    def partition_path(self) -> Path:
        """Where the intra stage writes the local partitions (and the inter stage reads them by default)."""
        return Path(self.ctx.output_dir) / FILENAME

    def setup_stage(self, stage: Stage) -> None:
        """A fresh network from the pretrained weights, Adam and StepLR, and the stage's images."""
        self.reset()
        cfg = self.cfg
        cam = self.stage_camera(stage)
        arch = cfg.intra_arch if cam is not None else cfg.inter_arch
        self.model = self.add_module(
            "model", ICSRNet(arch, pretrained=cfg.pretrained, pooling=cfg.pooling, width=cfg.backbone_width)
        )
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = self.add_optimizer("adam", torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay))
        self.add_scheduler("step", torch.optim.lr_scheduler.StepLR(optimizer, cfg.step_size, gamma=cfg.gamma))
        self.labels, self.memory = None, None
        self.local = None  # read at the first epoch of the inter stage (reid eval never needs it)
        self.momentum = self.cfg.intra_momentum if cam is not None else self.cfg.inter_momentum
        if cam is not None:
            self.stage_samples = [s for s in self.train_samples if int(s.camid) == cam]
            self.best_silhouette, self.best_labels = -math.inf, None
        else:
            self.stage_samples = list(self.train_samples)
            if self.cfg.stage == "inter" and self.cfg.refine and not self.cfg.local_labels:
                raise ConfigError(
                    "icsr.stage = 'inter' needs the intra stage's partitions: "
                    f"--set icsr.local_labels=PATH/{FILENAME} (or icsr.refine=false)"
                )

    def _load_local_labels(self) -> np.ndarray:
        """The local label of every training image, from this run's partitions or ``icsr.local_labels``."""
        if self.cfg.stage == "inter":
            path = Path(self.cfg.local_labels).expanduser()
        else:
            path = Path(self.cfg.local_labels).expanduser() if self.cfg.local_labels else self.partition_path()
        partitions = self.partitions if (self.cfg.stage == "all" and not self.cfg.local_labels
                                         and set(self.partitions) >= set(self.cameras)) else read_partitions(path)
        keys = [s.key for s in self.train_samples]
        cams = [int(s.camid) for s in self.train_samples]
        return local_labels_for(keys, cams, partitions, str(path))

    # -- epochs -------------------------------------------------------------------------------------
    def on_epoch_start(self, epoch: int, stage: Stage) -> None:
        """Features of the stage's images, clustering (and refinement), relabelling, a fresh memory."""
        cfg = self.cfg
        start = time.perf_counter()
        feats = self.ctx.extract_features(self.stage_samples, transform=self._transform(train=False))
        dist = jaccard(feats, cfg.k1, cfg.k2)
        n = len(self.stage_samples)
        truth = np.array([s.pid for s in self.stage_samples])
        stats: dict[str, float] = {}
        if self.stage_camera(stage) is not None:
            labels = agglomerative(dist, resolve_n_clusters(n, ratio=cfg.intra_ratio))
            score = silhouette(dist, labels)
            stats["silhouette"] = score
            if score > self.best_silhouette:  # best starts at -inf, so some epoch is always kept
                self.best_silhouette, self.best_labels = score, labels.copy()
        else:
            labels = agglomerative(dist, resolve_n_clusters(n, self.global_clusters(), cfg.inter_ratio))
            before = pairwise_precision_recall(labels, truth)
            stats.update({"global_precision": before["precision"], "global_recall": before["recall"]})
            if cfg.refine:
                if self.local is None:
                    self.local = self._load_local_labels()
                nodes, _ = information_nodes(feats, k=cfg.infomap_k, min_sim=cfg.infomap_min_sim,
                                             min_size=cfg.infomap_min_size, rule=cfg.info_node,
                                             seed=int(self.config.train.seed),
                                             fallback_modules=labels if cfg.infomap_fallback else None)
                cams = np.array([int(s.camid) for s in self.stage_samples])
                labels, removed = refine_labels(labels, cams, nodes, self.local, order=cfg.refine_order)
                stats.update({"info_nodes": float(len(nodes)), "removed": float(removed)})
        labels = relabel(labels)
        if num_clusters(labels) == 0:
            raise RuntimeError(f"stage {stage.name} epoch {epoch}: the refinement removed every sample")
        pr = pairwise_precision_recall(labels, truth)
        recall_all = pairwise_precision_recall(labels, truth, ignore_outliers=False)["recall"]
        stats.update({"clusters": float(pr["clusters"]), "precision": pr["precision"], "recall": pr["recall"],
                      "recall_all": recall_all, "coverage": pr["coverage"]})
        self.labels = labels
        self._build_memory(feats, labels, self.momentum)
        self.last_stats = stats
        self.ctx.log(
            f"[icsr] {stage.name} epoch {epoch}: " + ", ".join(f"{k} {v:.4g}" for k, v in stats.items())
            + f" ({time.perf_counter() - start:.1f}s)"
        )

    def test_transform(self) -> Any:
        """Evaluation uses the released code's bicubic test transform too."""
        return self._transform(train=False)

    def _transform(self, *, train: bool) -> Any:
        """The released code's transforms: bicubic resize; train adds flip, pad 10 + crop, erasing."""
        from reid_core.data.transforms import build_test_transform, build_train_transform

        data = self.config.data
        if train:
            return build_train_transform(data.height, data.width, pad=10, random_crop="pad", interpolation="bicubic")
        return build_test_transform(data.height, data.width, interpolation="bicubic")

    def _build_memory(self, feats: torch.Tensor, labels: np.ndarray, momentum: float) -> None:
        centroids = cluster_centroids(feats, labels)
        memory = ClusterMemory(centroids.shape[1], centroids.shape[0], temp=self.cfg.temp, momentum=momentum,
                               hard=self.cfg.use_hard)
        memory.init_from(centroids)
        self.memory = memory.to(self.ctx.device)

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        """The camera-aware P x K loader over the stage's images with this epoch's pseudo labels."""
        if self.labels is None:
            raise RuntimeError("icsr: train_loaders() before on_epoch_start() made the pseudo labels")
        data = self.config.data
        # a camera with few clusters yields fewer than one batch per epoch: shrink the batch (never below K)
        # (the camera sampler gives K indices per cluster, 1 for a singleton)
        sizes = np.bincount(self.labels[self.labels >= 0])
        per_epoch = int(np.where(sizes > 1, data.num_instances, 1).sum())
        whole = per_epoch // data.num_instances * data.num_instances
        batch = min(data.batch_size, whole if whole >= 2 else per_epoch)
        if batch < 2:
            raise RuntimeError(f"icsr: stage {stage.name} has {len(self.stage_samples)} image(s) in "
                               f"{num_clusters(self.labels)} cluster(s): too few for a training batch")
        if batch < data.batch_size:
            self.ctx.log(f"[icsr] {stage.name}: {num_clusters(self.labels)} clusters fill no batch of "
                         f"{data.batch_size}; using batches of {batch}")
        loader = self.ctx.train_loader(self.stage_samples, sampler="camera", labels=self.labels.tolist(),
                                       batch_size=batch, transform=self._transform(train=True))
        return {"train": loader}

    def training_step(self, batch: dict[str, Any], step: Any) -> dict[str, torch.Tensor]:
        """ClusterNCE of the batch's features against the memory (which the backward pass updates)."""
        data = batch["train"]
        feats = self.model(data["img"])
        return {"cluster_nce": self.memory(feats, data["pid"])}

    def on_stage_end(self, stage: Stage) -> None:
        """After an intra-camera stage: keep its best partition and rewrite ``local_labels.json``."""
        cam = self.stage_camera(stage)
        if cam is None:
            return
        if self.best_labels is None:
            raise RuntimeError(f"icsr: stage {stage.name} ended without a partition (did it run any epoch?)")
        self.partitions[cam] = {s.key: int(v) for s, v in zip(self.stage_samples, self.best_labels)}
        if self.ctx.is_main:
            write_partitions(self.partition_path(), self.partitions)
        self.ctx.log(f"[icsr] camera {cam}: kept the partition with silhouette {self.best_silhouette:.4f} "
                     f"({num_clusters(self.best_labels)} clusters) in {self.partition_path()}")

    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        """Unit-norm BN features (the same in train and test)."""
        return self.model(batch["img"])

    # -- checkpoints ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Finished partitions, the current camera's best partition, the pseudo labels and the memory."""
        return {
            "partitions": {str(c): dict(p) for c, p in self.partitions.items()},
            "best_silhouette": float(self.best_silhouette),
            "best_labels": None if self.best_labels is None else self.best_labels.tolist(),
            "labels": None if self.labels is None else self.labels.tolist(),
            "memory": None if self.memory is None else self.memory.features.detach().cpu().clone(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (the memory is rebuilt around the saved rows)."""
        self.partitions = {int(c): {str(k): int(v) for k, v in p.items()}
                           for c, p in (state.get("partitions") or {}).items()}
        self.best_silhouette = float(state.get("best_silhouette", -math.inf))
        best = state.get("best_labels")
        self.best_labels = None if best is None else np.asarray(best, dtype=np.int64)
        labels = state.get("labels")
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        rows = state.get("memory")
        if rows is not None and self.labels is not None:
            memory = ClusterMemory(rows.shape[1], rows.shape[0], temp=self.cfg.temp, momentum=self.momentum,
                                   hard=self.cfg.use_hard)
            memory.features.copy_(rows)
            self.memory = memory.to(self.ctx.device)
