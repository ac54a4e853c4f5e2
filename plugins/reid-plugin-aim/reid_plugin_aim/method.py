"""The AIM training method: two encoders, three optimizers and the official per-iteration order.

One iteration (``shared/methods/aim.md`` section 2), with ``on = epoch >= start_epoch``:

1. forward both encoders once; ``h = Fusion(X, stopgrad(Xc))``; ``o = dID(f)``, ``o2 = dC(g)``, ``o3 = dID(h)``;
2. ``delta_A`` update with ``L_cloA`` on ``dA(stopgrad f)`` (only when ``on``);
3. recompute ``dA(f)`` with the updated ``delta_A`` (gradient to ``f``);
4. bias-branch update: ``L_cloC + on * k_kl * L_KL``;
5. main update: ``L_id + on * (k_cal * L_Cal + k_adv * L_adv) + w_pair * L_pair``.

At test time only the ID branch is used: ``L2norm(f(x) + f(flip x))``, cosine distance.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reid_core.engine import unwrap
from reid_core.methods import Method, Stage, StepContext
from reid_plugin_aim.config import PROFILES, AIMConfig
from reid_plugin_aim.losses import ClothesAdversarialLoss, CosineCrossEntropy, pid_to_clothes, symmetric_kl
from reid_plugin_aim.model import (
    ClothingBranch,
    Fusion,
    IDBranch,
    NormalizedClassifier,
    PyramidHead,
    identity_classifier,
)

log = logging.getLogger(__name__)

#: The six modules a checkpoint holds (the official checkpoint's state dicts).
MODULE_NAMES: tuple[str, ...] = ("model", "model2", "fuse", "classifier", "clothes_classifier", "clothes_classifier2")


class AIMError(ValueError):
    """The data set cannot be used by AIM; the message says why and what to use instead."""


def _build_backbone(cfg: AIMConfig) -> nn.Module:
    from reid_core.models import build_backbone

    extra = {"width": cfg.width} if cfg.width != 64 else {}  # only ResNets know ``width``
    return build_backbone(cfg.backbone, pretrained=cfg.pretrained, last_stride=cfg.last_stride, **extra)


def _build_pooling() -> nn.Module:
    from reid_core.models import build_pooling

    return build_pooling("maxavg")


def _build_loss(name: str, **kwargs: Any) -> nn.Module:
    from reid_core.plugins import get_registry

    return get_registry("losses").create(name, **kwargs)


class AIM(Method):
    """AIM (Yang et al., CVPR 2023): causality-inspired cloth-debiasing for cloth-changing re-ID."""

    name = "aim"
    config_class = AIMConfig
    profiles = PROFILES
    default_dataset = "synthetic-cc"
    manual_optimization = True
    eval_metric = "cosine"
    checkpoint_formats = ("official",)

    # -- building ---------------------------------------------------------------------------------
    def _train_labels(self) -> tuple[int, int, torch.Tensor]:
        train = self.ctx.dataset.train
        clothes = [s.clothes_id for s in train if s.clothes_id is not None]
        if not train or not clothes:
            raise AIMError(
                f"AIM needs clothes labels in the train split, but data set "
                f"{getattr(self.ctx.dataset, 'name', '?')!r} has none; use a cloth-changing data set "
                "(prcc, ltcc, synthetic-cc)."
            )
        num_pids = max(s.pid for s in train) + 1
        num_clothes = max(clothes) + 1
        mask = pid_to_clothes((s.pid for s in train), (s.clothes_id for s in train), num_pids, num_clothes)
        return num_pids, num_clothes, mask

    def setup_stage(self, stage: Stage) -> None:
        """Build the six modules, the three Adam optimizers and the two step schedulers."""
        cfg: AIMConfig = self.cfg
        num_pids, num_clothes, mask = self._train_labels()
        id_backbone, clothing_backbone = _build_backbone(cfg), _build_backbone(cfg)
        channels = int(id_backbone.out_channels)
        dim = 2 * channels  # max + avg pooled ID feature; the fusion and pyramid match it
        self.model = self.add_module("model", IDBranch(id_backbone, _build_pooling()))
        self.model2 = self.add_module(
            "model2", ClothingBranch(clothing_backbone, PyramidHead(channels, cfg.part_dim, dim))
        )
        self.fuse = self.add_module("fuse", Fusion(channels, dim, cfg.attention_maps))
        self.classifier = self.add_module("classifier", identity_classifier(dim, num_pids))
        self.clothes_classifier = self.add_module("clothes_classifier", NormalizedClassifier(dim, num_clothes))
        self.clothes_classifier2 = self.add_module("clothes_classifier2", NormalizedClassifier(dim, num_clothes))
        self.pid2clothes = mask.to(self.ctx.device)

        def adam(*modules: nn.Module) -> torch.optim.Adam:
            params = [p for m in modules for p in m.parameters() if p.requires_grad]
            return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

        main = self.add_optimizer("main", adam(self.model, self.fuse, self.classifier))
        bias = self.add_optimizer("bias", adam(self.model2, self.clothes_classifier2))
        self.add_optimizer("clothes", adam(self.clothes_classifier))  # delta_A: no scheduler
        milestones = list(cfg.milestones)
        self.add_scheduler("main", torch.optim.lr_scheduler.MultiStepLR(main, milestones, gamma=cfg.gamma))
        self.add_scheduler("bias", torch.optim.lr_scheduler.MultiStepLR(bias, milestones, gamma=cfg.gamma))

        self.id_loss = _build_loss("cross_entropy_ls", epsilon=cfg.epsilon)
        self.clothes_loss = CosineCrossEntropy(cfg.s)
        self.adv_loss = ClothesAdversarialLoss(cfg.s, cfg.epsilon)
        self.pair_loss = (
            _build_loss("triplet", margin=cfg.pair_margin, metric="cosine") if cfg.pair_loss_weight > 0 else None
        )
        log.info("AIM: %d train ids, %d train clothes, feature dim %d", num_pids, num_clothes, dim)

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        """One P x K loader over the train split with the CAL/AIM train transform."""
        from reid_core.data.transforms import CAL_ERASING_FILL, build_train_transform

        data = self.config.data
        transform = build_train_transform(
            data.height, data.width, random_crop="upscale", erasing_fill=CAL_ERASING_FILL, interpolation="bilinear"
        )
        loader = self.ctx.train_loader(
            self.ctx.dataset.train,
            sampler="identity",
            batch_size=data.batch_size,
            num_instances=data.num_instances,
            transform=transform,
        )
        return {"train": loader}

    # -- one iteration ----------------------------------------------------------------------------
    def active(self, epoch: int) -> bool:
        """Whether the AIM terms (``L_Cal``, ``L_adv``, ``L_KL``, the ``delta_A`` step) run at ``epoch``."""
        return epoch >= self.cfg.start_epoch

    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        """The five-step AIM iteration (module docstring); returns the detached loss terms."""
        cfg: AIMConfig = self.cfg
        if "train" in batch and isinstance(batch["train"], dict):
            batch = batch["train"]
        device = self.ctx.device
        images = batch["img"].to(device, non_blocking=True)
        pids = batch["pid"].to(device, non_blocking=True)
        clothes = batch["clothes_id"].to(device, non_blocking=True)
        on = self.active(step.epoch)
        logged: dict[str, torch.Tensor] = {}

        # 1. one forward of both encoders
        fmap, f = self.model(images)
        clothing_map, g = self.model2(images)
        h = self.fuse(fmap, clothing_map)
        o, o2, o3 = self.classifier(f), self.clothes_classifier2(g), self.classifier(h)

        # 2. delta_A update with L_cloA only (its gradients accumulate over micro-batches under
        #    train.accumulate; nothing else ever writes delta_A's gradients, see step 3)
        loss_clo_a = self.clothes_loss(self.clothes_classifier(f.detach()), clothes)
        if on:
            step.optimize({"clothes_a": loss_clo_a}, "clothes")
        logged["clothes_a"] = loss_clo_a.detach()

        # 3. delta_A(f) with the updated delta_A, gradient to f only. The official code lets L_adv's
        #    gradient reach delta_A and drops it with optimizer_cc.zero_grad() at the next iteration;
        #    detaching the weights is the same update and keeps accumulated L_cloA gradients intact.
        new_pred_clothes = self._delta_a_on(f)

        # 4. bias branch
        bias_losses = {"clothes_c": self.clothes_loss(o2, clothes)}
        if on:
            bias_losses["kl"] = cfg.k_kl * symmetric_kl(o2, new_pred_clothes)
        step.optimize(bias_losses, "bias")

        # 5. main branch
        main_losses = {"id": self.id_loss(o, pids)}
        if on:
            main_losses["cal"] = cfg.k_cal * self.id_loss(o - o3, pids)
            positive = self.pid2clothes[pids]
            main_losses["adv"] = cfg.k_adv * self.adv_loss(new_pred_clothes, clothes, positive)
        if self.pair_loss is not None:
            main_losses["pair"] = cfg.pair_loss_weight * self.pair_loss(f, pids)
        step.optimize(main_losses, "main")

        logged.update({k: v.detach() for k, v in {**bias_losses, **main_losses}.items()})
        return logged

    def _delta_a_on(self, features: torch.Tensor) -> torch.Tensor:
        """``delta_A(features)`` with delta_A's weights detached: cosines with a gradient to ``features`` only."""
        weight = unwrap(self.clothes_classifier).weight.detach()
        return F.linear(F.normalize(features, dim=1), F.normalize(weight, dim=1))

    # -- official checkpoints -----------------------------------------------------------------------
    def convert_checkpoint(self, source: str, state: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
        """The released AIM checkpoint (``BoomShakaY/AIM-CCReID``) as state dicts of this method's modules.

        See :mod:`reid_plugin_aim.official`; ``source`` is one of :attr:`checkpoint_formats`.
        """
        from reid_plugin_aim.official import from_official

        converted = from_official(state)
        # the classifiers are sized by this data set's train ids/clothes; evaluation never uses them,
        # so weights for another split (e.g. LTCC weights evaluated on PRCC) are left out, not refused
        for name in ("classifier", "clothes_classifier", "clothes_classifier2"):
            weight = converted.get(name, {}).get("weight")
            mine = unwrap(self.modules()[name]).weight
            if weight is not None and tuple(weight.shape) != tuple(mine.shape):
                log.warning("official %s is %s, this data set's is %s: left at its initial weights (unused at test)",
                            name, tuple(weight.shape), tuple(mine.shape))
                converted.pop(name)
        return converted

    # -- test features ----------------------------------------------------------------------------
    @torch.no_grad()
    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        """ID-branch features only: ``L2norm(f(x) + f(flip x))`` (flip along the width)."""
        images = batch["img"].to(self.ctx.device, non_blocking=True)
        _, f = self.model(images)
        _, f_flip = self.model(torch.flip(images, dims=[3]))
        return F.normalize(f + f_flip, dim=1)
