"""The IV-ReID seed as a reid method (``reid run ivreid``).

One iteration on a balanced batch (P identities x (K/2 infrared + K/2 visible), ``shared/methods/ivreid.md``
section 2)::

    logits, f_bn = model(x)                       # one shared backbone over the mixed batch
    z_v, _, z_t, _ = heads(f_bn)                  # both modality heads on every sample
    L = id_weight * [CE(logits) + CE(z_v[V]) + CE(z_t[T])]
      + kl_weight * mutual_kl(z_v, z_t)           # detached teacher, batchmean (SYSU) / mean (RegDB)
      + triplet_weight * batch_hard(f_bn, margin)
    Adam(model, 1e-4) and Adam(heads, 1e-3) both step; no schedule.

V and T come from each sample's modality label (the seed hard-codes batch positions, which equal
the labels under its sampler). Test feature: ``f_bn`` (or ``f``), L2-normalised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F

from reid_core.methods import Method, Stage, StepContext
from reid_plugin_ivreid.common import balanced_loader, build_resnet_backbone, check_cross_modal
from reid_plugin_ivreid.config import IVREID_PROFILES, IVReIDConfig
from reid_plugin_ivreid.losses import modality_id_loss, mutual_kl
from reid_plugin_ivreid.model import IVReIDModel, ModalityHeads, apply_seed_quirks

log = logging.getLogger(__name__)


class IVReID(Method):
    """IV-ReID (linyq17/IV-REID): shared ResNet, BN head, modality heads with a detached mutual KL."""

    name = "ivreid"
    config_class = IVReIDConfig
    profiles = IVREID_PROFILES
    default_dataset = "synthetic-ir"
    eval_metric = "euclidean"  # on L2-normalised features: the seed's 2 - 2cos ranking
    #: ``reid eval ivreid --from official`` (the core's foreign-checkpoint mechanism): the seed's released weights.
    checkpoint_formats = ("official",)

    def build_model(self, num_classes: int) -> IVReIDModel:
        """The seed's network for ``num_classes`` identities (ImageNet weights first, then the quirks)."""
        cfg: IVReIDConfig = self.cfg
        backbone = apply_seed_quirks(build_resnet_backbone(cfg), stem_relu=cfg.stem_relu, conv_bias=cfg.conv_bias)
        return IVReIDModel(backbone, num_classes)

    def setup_stage(self, stage: Stage) -> None:
        """The model, the modality heads, their two Adam optimizers and the losses."""
        from reid_core.losses import TripletLoss

        cfg: IVReIDConfig = self.cfg
        num_classes = check_cross_modal(self.name, self.ctx.dataset)
        model = self.build_model(num_classes)
        self.model = self.add_module("model", model)
        self.heads = self.add_module("heads", ModalityHeads(model.feature_dim, num_classes, cfg.head_dim))

        def adam(module: torch.nn.Module, lr: float) -> torch.optim.Adam:
            params = [p for p in module.parameters() if p.requires_grad]
            return torch.optim.Adam(params, lr=lr, weight_decay=cfg.weight_decay)

        self.add_optimizer("model", adam(self.model, cfg.lr))
        self.add_optimizer("heads", adam(self.heads, cfg.head_lr))
        self.triplet = TripletLoss(margin=cfg.margin if cfg.margin > 0 else None)
        log.info("ivreid: %d train ids, feature dim %d, triplet margin %s, KL %s", num_classes,
                 model.feature_dim, cfg.margin, cfg.kl_reduction)

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        """The balanced cross-modality loader (P identities x K/2 per modality) with the seed's transform."""
        cfg: IVReIDConfig = self.cfg
        return {"train": balanced_loader(self.ctx, self.config, infrared_first=cfg.infrared_first, too_few=cfg.too_few)}

    def losses(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """The weighted loss terms ``id``, ``kl`` and ``triplet`` of one batch (module docstring)."""
        cfg: IVReIDConfig = self.cfg
        pids = batch["pid"]
        modality = batch["modality"]
        visible, infrared = modality == 0, modality == 1
        logits, f_bn = self.model(batch["img"])
        z_v, _, z_t, _ = self.heads(f_bn)
        out = {
            "id": cfg.id_weight * modality_id_loss(logits, z_v, z_t, pids, visible, infrared),
            "kl": cfg.kl_weight * mutual_kl(z_v, z_t, visible, infrared, cfg.kl_reduction),
        }
        if cfg.triplet_weight > 0:
            out["triplet"] = cfg.triplet_weight * self.triplet(f_bn, pids)
        return out

    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        """The loss terms; the engine steps both optimizers on their sum."""
        return self.losses(batch["train"])

    def convert_checkpoint(self, source: str, state: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
        """The seed's released weights (official key layout) as ``{"model": ..., "heads": ...}``;
        another layout is a ``ValueError`` listing the keys that do not match."""
        from reid_core.models.weights import WeightsError
        from reid_plugin_ivreid.official import convert_official, unwrap_official

        try:
            return convert_official(unwrap_official(state), source=f"{source} checkpoint", cfg=self.cfg)
        except WeightsError as exc:
            raise ValueError(str(exc)) from None

    @torch.no_grad()
    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        """``f_bn`` (or the pooled ``f``) in eval mode, L2-normalised."""
        f_bn, f = self.model(batch["img"])
        feats = f_bn if self.cfg.test_feature == "bn" else f
        return F.normalize(feats.float(), dim=1)
