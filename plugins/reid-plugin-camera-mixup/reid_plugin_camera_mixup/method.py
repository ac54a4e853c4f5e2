"""The ``camera-mixup`` method: camera-aware invariance learning + cross-domain mixup (Luo et al., ECCV 2020).

One run trains on a labelled source data set and an unlabelled target data set at once
(``--dataset TARGET --source SOURCE``). Every per-process batch is half source, half target (the
``cross-domain`` sampler). Epoch 1: CE on the source half; the target features overwrite their
memory rows. From epoch 2 the source half is replaced by ``lam * source + (1 - lam) * target``
(lam ~ Beta(0.6, 0.6)) trained with a C+1-way CE whose last class is the paired target image's
memory row. The target half's features feed the intra-camera loss (after epoch 10) and the
inter-camera loss (after epoch 30) against the exemplar memory, which is then updated (momentum
0.6) from the features of every rank. With ``joint = false`` it is the source-only baseline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F

from reid_core.datasets import EvalSpec, require_cross_domain
from reid_core.engine import checkpoint as ckpt
from reid_core.methods.base import Method, Stage, StepContext
from reid_plugin_camera_mixup.config import PROFILES, CameraMixupConfig
from reid_plugin_camera_mixup.losses import (
    Schedule,
    camera_masks,
    inter_camera_loss,
    intra_camera_loss,
    mix_images,
    mixup_logits,
    mixup_loss,
)
from reid_plugin_camera_mixup.memory import ExemplarMemory
from reid_plugin_camera_mixup.model import CameraMixupNet

__all__ = ["CameraMixup"]

TRAPEZOID = "market-trapezoid"


class CameraMixup(Method):
    """Camera-aware invariance learning with cross-domain mixup (see the module docstring)."""

    name = "camera-mixup"
    config_class = CameraMixupConfig
    profiles = PROFILES
    default_dataset = "synthetic-b"
    default_source = "synthetic-a"
    eval_metric = "cosine"
    manual_optimization = True
    identity_batches = False  # random source batches, then the cross-domain sampler (source + target halves)

    @classmethod
    def check_data(cls, config: Any, dataset: Any) -> None:
        """The joint method needs a source: refused before the run folder is made."""
        if config.camera_mixup.joint:
            require_cross_domain(dataset, cls.name)

    def __init__(self, config: Any, context: Any) -> None:
        super().__init__(config, context)
        cfg = self.cfg
        dataset = context.dataset
        if cfg.joint:
            self.target = list(require_cross_domain(dataset, self.name).target_train)
        else:
            self.target = []
        self.source = list(dataset.train)
        self.schedule = Schedule(cfg.mix_start, cfg.intra_weight, cfg.intra_after, cfg.inter_weight,
                                 cfg.inter_after, cfg.momentum)
        self.beta = torch.distributions.Beta(torch.tensor(float(cfg.alpha)), torch.tensor(float(cfg.alpha)))
        self.lam = 1.0
        self._add_trapezoid(dataset)

    def _add_trapezoid(self, dataset: Any) -> None:
        """Report Market-1501's official trapezoid AP next to every ``market`` evaluation (the paper's numbers)."""
        specs = list(dataset.evaluations)
        if not self.cfg.trapezoid_ap or any(s.protocol == TRAPEZOID for s in specs):
            return
        extra = [EvalSpec(TRAPEZOID, query=s.query, gallery=s.gallery,
                          name=TRAPEZOID if s.key == "market" else f"{s.key}-trapezoid")
                 for s in specs if s.protocol == "market"]
        dataset.evaluations = tuple(specs + extra)

    # -- structure ---------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        return [Stage("train", self.cfg.epochs)]

    def setup_stage(self, stage: Stage) -> None:
        """The network, the target memory, SGD with the backbone's and the new layers' learning rates."""
        from reid_core.models import build_backbone

        cfg = self.cfg
        backbone = build_backbone(cfg.backbone, pretrained=cfg.pretrained, last_stride=cfg.last_stride,
                                  width=cfg.width)
        num_classes = max(int(s.pid) for s in self.source) + 1
        net = CameraMixupNet(backbone, num_classes)
        self.model = self.add_module("model", net)
        self.memory: ExemplarMemory | None = None
        if cfg.joint:
            cams = [int(s.camid) for s in self.target]
            self.memory = self.add_module("memory", ExemplarMemory(len(self.target), net.feature_dim, cams))
        backbone_params = [p for p in net.backbone.parameters() if p.requires_grad]
        new_params = [p for n, p in net.named_parameters() if not n.startswith("backbone.") and p.requires_grad]
        optimizer = torch.optim.SGD(
            [{"params": backbone_params, "lr": cfg.backbone_lr}, {"params": new_params, "lr": cfg.new_lr}],
            momentum=cfg.sgd_momentum, weight_decay=cfg.weight_decay,
        )
        self.add_optimizer("sgd", optimizer)
        self.add_scheduler("sgd", torch.optim.lr_scheduler.MultiStepLR(optimizer, list(cfg.milestones), cfg.gamma))

    def train_transform(self) -> Any:
        """Resize, flip, pad 10 with ``pad_fill`` + crop, normalise, erasing (p 0.5, area 2-25 %, value 0)."""
        from reid_core.data.transforms import build_train_transform

        data = self.config.data
        return build_train_transform(data.height, data.width, pad=10, pad_fill=self.cfg.pad_fill,
                                     erasing_scale=(0.02, self.cfg.erasing_scale_max), erasing_fill=(0.0, 0.0, 0.0))

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        """Joint: one loader over ``source + target`` with half-source/half-target batches, keeping the
        last incomplete batch in epoch 1 only (so that every target image is written into the memory).
        Source-only: a random order over the source."""
        transform = self.train_transform()
        if not self.cfg.joint:
            return {"train": self.ctx.train_loader(self.source, sampler="random", transform=transform)}
        loader = self.ctx.train_loader(
            self.source + self.target,
            sampler="cross-domain",
            sampler_options={"num_source": len(self.source)},
            transform=transform,
            drop_last=self.ctx.epoch > 0,
        )
        return {"train": loader}

    # -- one step ------------------------------------------------------------------------------------
    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        """Forward, losses, one SGD step, then the memory update from every rank's target features."""
        data = batch["train"]
        epoch = step.stage_epoch + 1  # the released code counts epochs from 1
        if not self.cfg.joint:
            z, _ = self.model(data["img"])
            weight = ckpt.unwrap(self.model).classifier.weight
            losses = {"src": F.cross_entropy(F.linear(z, weight).float(), data["pid"])}
            step.optimize(losses, "sgd")
            return {k: v.detach() for k, v in losses.items()}
        images, pids = data["img"], data["pid"]
        half = images.shape[0] // 2
        source, target = images[:half], images[half:]
        labels = pids[:half]
        rows = data["index"][half:] - len(self.source)
        cameras = data["camid"][half:]
        mixing = self.schedule.mixing(epoch, self.cfg.mix)
        if mixing:
            self.lam = float(self.beta.sample())
            source = mix_images(source, target, self.lam)
        z_first, z_target = self.model(torch.cat([source, target]), split=half)
        assert z_target is not None and self.memory is not None
        weight = ckpt.unwrap(self.model).classifier.weight
        if mixing:
            logits = mixup_logits(z_first, weight, self.memory.memory[rows], labels)
            losses = {"mix": mixup_loss(logits, labels, self.lam)}
        else:
            losses = {"src": F.cross_entropy(F.linear(z_first, weight).float(), labels)}
        feats = F.normalize(z_target.float(), dim=1)
        sims = self.memory.similarities(feats)
        instance, intra_mask, inter_mask = camera_masks(self.memory.cameras, cameras, rows)
        intra = intra_camera_loss(sims, instance, intra_mask, scale=self.cfg.scale, eps=self.cfg.neighbor_eps)
        inter = inter_camera_loss(sims, inter_mask, scale=self.cfg.scale, eps=self.cfg.neighbor_eps)
        w_intra, w_inter = self.schedule.weights(epoch)
        losses["intra"] = w_intra * intra
        losses["inter"] = w_inter * inter
        step.optimize(losses, "sgd")
        self.memory.update_gathered(feats.detach(), rows, self.schedule.memory_momentum(epoch), self.ctx.dist)
        logged = {k: v.detach() for k, v in losses.items()}
        logged.update({"intra_raw": intra.detach(), "inter_raw": inter.detach()})
        return logged

    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        """The BN-neck output in eval mode (target running statistics), not normalised."""
        z, _ = self.model(batch["img"])
        return z.float()
