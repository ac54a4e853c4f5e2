"""AGW (Ye et al., TPAMI 2021) as a reid method (``reid run agw``): the field's standard two-stream
visible-infrared baseline, trained on the same data and protocols as ``ivreid`` for comparison.

Loss: ``CE(classifier(bn), y) + WRT(pooled, y)`` (or batch-hard triplet with ``triplet = "hard"``).
Optimiser: SGD (nesterov, momentum 0.9, wd 5e-4), ``lr`` for the BNNeck and classifier and
``backbone_lr_factor * lr`` for everything else; ``lr * (e + 1) / warmup`` during the warm-up, then
x0.1 at each milestone. Test feature: the BN (or pooled) feature, L2-normalised, inner product.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F

from reid_core.methods import Method, Stage, StepContext
from reid_plugin_ivreid.agw_model import AGWModel
from reid_plugin_ivreid.common import balanced_loader, build_resnet_backbone, check_cross_modal
from reid_plugin_ivreid.config import AGW_PROFILES, AGWConfig
from reid_plugin_ivreid.losses import WeightedRegularizedTriplet


def agw_schedule(warmup_epochs: int, milestones: tuple[int, ...]) -> Any:
    """AGW's learning-rate factor per epoch (for ``LambdaLR``)."""

    def factor(epoch: int) -> float:
        if epoch < warmup_epochs:
            return (epoch + 1) / warmup_epochs
        return 0.1 ** sum(1 for m in milestones if epoch >= m)

    return factor


class AGW(Method):
    """AGW: modality-specific stems, shared non-local ResNet, GeM, BNNeck; CE + WRT."""

    name = "agw"
    config_class = AGWConfig
    profiles = AGW_PROFILES
    default_dataset = "synthetic-ir"
    eval_metric = "cosine"

    def setup_stage(self, stage: Stage) -> None:
        """The two-stream model, SGD with two learning rates and the warm-up / step schedule."""
        from reid_core.losses import TripletLoss

        cfg: AGWConfig = self.cfg
        num_classes = check_cross_modal(self.name, self.ctx.dataset)
        model = AGWModel(
            build_resnet_backbone(cfg), build_resnet_backbone(cfg), build_resnet_backbone(cfg), num_classes,
            non_local=cfg.non_local, gem=cfg.gem,
        )
        self.model = self.add_module("model", model)
        head = {id(p) for m in (model.bottleneck, model.classifier) for p in m.parameters()}
        trainable = [p for p in model.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in trainable if id(p) not in head], "lr": cfg.lr * cfg.backbone_lr_factor},
            {"params": [p for p in trainable if id(p) in head], "lr": cfg.lr},
        ]
        optimizer = torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                                    nesterov=cfg.momentum > 0)
        self.add_optimizer("model", optimizer)
        schedule = agw_schedule(cfg.warmup_epochs, tuple(cfg.milestones))
        self.add_scheduler("model", torch.optim.lr_scheduler.LambdaLR(optimizer, schedule))
        self.triplet: torch.nn.Module = (
            WeightedRegularizedTriplet() if cfg.triplet == "wrt" else TripletLoss(margin=cfg.margin)
        )

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        """The balanced cross-modality loader (visible first), AGW's pad-crop-flip transform."""
        return {"train": balanced_loader(self.ctx, self.config, infrared_first=False, too_few=self.cfg.too_few)}

    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        """``id`` (plain CE on the BNNeck logits) and ``triplet`` (WRT on the pooled feature)."""
        data = batch["train"]
        pooled, _bn, logits = self.model(data["img"], data["modality"])
        return {"id": F.cross_entropy(logits.float(), data["pid"]), "triplet": self.triplet(pooled, data["pid"])}

    @torch.no_grad()
    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        """The BN (or pooled) feature through each image's own stem, L2-normalised."""
        pooled, bn, _ = self.model(batch["img"], batch["modality"])
        return F.normalize((bn if self.cfg.test_feature == "bn" else pooled).float(), dim=1)
