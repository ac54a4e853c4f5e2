"""The strong baseline (BoT: Luo et al., "Bag of Tricks and a Strong Baseline for Deep Person Re-ID", 2019).

ResNet-50 with last stride 1, global average pooling, a BNNeck (BatchNorm1d, bias frozen, then a
bias-free classifier); cross-entropy with label smoothing 0.1 on the classifier logits plus
batch-hard triplet (margin 0.3) on the pooled feature before the BN, optional center loss;
Adam 3.5e-4 with a linear warm-up over 10 epochs (from 1%) and x0.1 at epochs 40 and 70, 120
epochs, 256x128 images, P=16 identities x K=4 images. Test feature: the BN feature,
L2-normalised, compared with the euclidean distance.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import torch
import torch.nn.functional as F
from torch import nn

from reid_core.config import increasing_epochs, non_negative, one_of, positive
from reid_core.methods.base import Method, Stage, StepContext
from reid_core.optim import warmup_multistep, warmup_multistep_lr

__all__ = ["Baseline", "BaselineConfig", "BaselineModel", "warmup_multistep"]


@attrs.frozen
class BaselineConfig:
    """The ``[baseline]`` section; defaults are the BoT paper's settings.

    Args:
        backbone: a registered backbone (``reid list backbones``).
        pretrained: backbone weights: ``imagenet`` (the file from ``REID_WEIGHTS_DIR``), a path, or ``none``.
        last_stride: stride of the last ResNet stage (BoT: 1).
        width: ResNet base width (64 = standard; smaller only for tiny tests, without pretrained weights).
        pooling: ``avg`` (GAP, BoT), ``max``, ``maxavg`` or ``gem``.
        epochs: training epochs.
        iters_per_epoch: fixed epoch length (0 = one pass over the P x K sampler).
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        warmup_epochs: linear warm-up length in epochs (0 = none).
        warmup_factor: the learning-rate factor at epoch 0 of the warm-up.
        milestones: epochs at which the learning rate is multiplied by ``gamma``.
        gamma: decay factor.
        label_smoothing: epsilon of the identity loss.
        id_weight: weight of the identity (cross-entropy) loss.
        triplet_weight: weight of the triplet loss (0 = off).
        margin: triplet margin (0 = soft margin).
        center_weight: weight of the center loss (0 = off; BoT: 0.0005 when used).
        center_lr: SGD learning rate of the centers (BoT: 0.5).
        test_feature: ``bn`` (after the BNNeck, BoT) or ``pool`` (before it).
        normalize: L2-normalise the test features.
        flip: average the features of the image and its horizontal flip at test time.
    """

    backbone: str = "resnet50"
    pretrained: str = "imagenet"
    last_stride: int = attrs.field(default=1, validator=positive)
    width: int = attrs.field(default=64, validator=positive)
    pooling: str = attrs.field(default="avg", validator=one_of("avg", "max", "maxavg", "gem"))
    epochs: int = attrs.field(default=120, validator=positive)
    iters_per_epoch: int = attrs.field(default=0, validator=non_negative)
    lr: float = attrs.field(default=3.5e-4, validator=positive)
    weight_decay: float = attrs.field(default=5e-4, validator=non_negative)
    warmup_epochs: int = attrs.field(default=10, validator=non_negative)
    warmup_factor: float = attrs.field(default=0.01, validator=positive)
    milestones: tuple[int, ...] = attrs.field(default=(40, 70), converter=tuple, validator=increasing_epochs)
    gamma: float = attrs.field(default=0.1, validator=positive)
    label_smoothing: float = attrs.field(default=0.1, validator=non_negative)
    id_weight: float = attrs.field(default=1.0, validator=non_negative)
    triplet_weight: float = attrs.field(default=1.0, validator=non_negative)
    margin: float = attrs.field(default=0.3, validator=non_negative)
    center_weight: float = attrs.field(default=0.0, validator=non_negative)
    center_lr: float = attrs.field(default=0.5, validator=positive)
    test_feature: str = attrs.field(default="bn", validator=one_of("bn", "pool"))
    normalize: bool = True
    flip: bool = False


class BaselineModel(nn.Module):
    """Backbone -> pooling -> BNNeck; ``forward`` gives ``(f, f_bn, logits)``."""

    def __init__(self, backbone: nn.Module, pooling: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.pool = pooling
        dim = int(backbone.out_channels) * int(getattr(pooling, "out_multiplier", 1))
        from reid_core.models import BNNeck

        self.neck = BNNeck(dim, num_classes)
        self.feature_dim = dim

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Images -> pooled feature ``f``, BN feature ``f_bn`` and identity logits."""
        f = self.pool(self.backbone(images))
        f_bn, logits = self.neck(f)
        return f, f_bn, logits


class Baseline(Method):
    """The BoT strong baseline: the reference method of reid (see the module docstring)."""

    name = "baseline"
    config_class = BaselineConfig
    default_dataset = "synthetic"
    profiles = {
        "paper": {
            "data": {"height": 256, "width": 128, "batch_size": 64, "num_instances": 4},
            "baseline": {"backbone": "resnet50", "pretrained": "imagenet", "epochs": 120},
        },
        "quick": {
            "data": {"height": 64, "width": 32, "batch_size": 32, "num_instances": 4, "num_workers": 0,
                     "eval_batch_size": 128},
            "train": {"log_every": 10},
            "baseline": {
                "backbone": "resnet18",
                "pretrained": "none",
                "width": 32,
                "epochs": 10,
                "lr": 1e-3,
                "warmup_epochs": 2,
                "warmup_factor": 0.1,
                "milestones": [8],
            },
        },
    }

    def setup_stage(self, stage: Stage) -> None:
        """Build the model, the losses, Adam (plus SGD for the centers) and the warm-up schedule."""
        from reid_core.losses import CenterLoss, CrossEntropyLabelSmooth, TripletLoss
        from reid_core.models import build_backbone, build_pooling

        cfg = self.cfg
        num_classes = self.ctx.dataset.num_train_pids
        backbone = build_backbone(cfg.backbone, pretrained=cfg.pretrained, last_stride=cfg.last_stride, width=cfg.width)
        model = BaselineModel(backbone, build_pooling(cfg.pooling), num_classes)
        self.model = self.add_module("model", model)
        self.id_loss = CrossEntropyLabelSmooth(epsilon=cfg.label_smoothing)
        self.triplet_loss = TripletLoss(margin=cfg.margin if cfg.margin > 0 else None)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.add_optimizer("model", optimizer)
        schedule = warmup_multistep_lr(optimizer, cfg.warmup_epochs, cfg.warmup_factor, cfg.milestones, cfg.gamma)
        self.add_scheduler("model", schedule)
        self.center_loss: nn.Module | None = None
        if cfg.center_weight > 0:
            center = CenterLoss(num_classes=num_classes, feat_dim=model.feature_dim)
            weight = cfg.center_weight
            for param in center.parameters():  # BoT: the centers' gradient is undone from the loss weight
                param.register_hook(lambda grad: grad / weight)
            self.center_loss = self.add_module("center", center)
            self.add_optimizer("center", torch.optim.SGD(self.center_loss.parameters(), lr=cfg.center_lr))

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        """One identity-balanced P x K loader over the training split."""
        return {"train": self.ctx.train_loader(self.ctx.dataset.train, sampler="identity")}

    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        """ID loss on the BNNeck logits, triplet (and center) loss on the pooled feature."""
        data = batch["train"]
        pids = data["pid"]
        f, _f_bn, logits = self.model(data["img"])
        losses = {"id": self.cfg.id_weight * self.id_loss(logits, pids)}
        if self.cfg.triplet_weight > 0:
            losses["triplet"] = self.cfg.triplet_weight * self.triplet_loss(f, pids)
        if self.center_loss is not None:
            losses["center"] = self.cfg.center_weight * self.center_loss(f.float(), pids)
        return losses

    def _features(self, images: torch.Tensor) -> torch.Tensor:
        f, f_bn, _ = self.model(images)
        return f_bn if self.cfg.test_feature == "bn" else f

    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        """The BN feature (or the pooled one), optionally flip-averaged, L2-normalised."""
        images = batch["img"]
        feats = self._features(images)
        if self.cfg.flip:
            feats = (feats + self._features(images.flip(3))) / 2
        feats = feats.float()
        return F.normalize(feats, dim=1) if self.cfg.normalize else feats
