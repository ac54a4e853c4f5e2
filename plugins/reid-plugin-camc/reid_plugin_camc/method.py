"""The CAMC training method: label-smoothed identity loss on the BNNeck logits, Adam with a
warm-up multi-step schedule, and a frozen pose network (or keypoint heatmaps) beside the model.

Test feature: the BN feature (4096-d for ResNet-50), L2-normalised, compared with the euclidean
distance (the official squared euclidean between normalised vectors ranks the same).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reid_core.config import ConfigError
from reid_core.methods import Method, Stage, StepContext
from reid_plugin_camc.config import HEIGHT, PROFILES, WIDTH, CAMCConfig
from reid_plugin_camc.heatmaps import merge_face, render_heatmaps
from reid_plugin_camc.model import CAMCModel

log = logging.getLogger(__name__)


def check_input_size(height: int, width: int) -> None:
    """CAMC runs at 256x128 only (``ConfigError`` otherwise, naming the reason)."""
    if (height, width) != (HEIGHT, WIDTH):
        raise ConfigError(
            f"data.height x data.width = {height}x{width}, but CAMC runs at {HEIGHT}x{WIDTH} only: its 64x32 "
            "pose heatmaps, cut into 4x4 patches, must give the same 16x8 token grid as the backbone's map "
            f"(last stride 1); set data.height={HEIGHT} data.width={WIDTH}"
        )


def build_camc_train_transform(cfg: CAMCConfig) -> Any:
    """ColorJitter -> Resize -> flip -> zero Pad -> RandomCrop -> ToTensor -> Normalize -> erasing
    (fill 0 in normalised space); keypoints move with the pixels."""
    from torchvision import transforms as T

    from reid_core.data.keypoints import KeypointCompose
    from reid_core.data.transforms import build_train_transform

    base = build_train_transform(
        HEIGHT, WIDTH, flip_p=cfg.flip_p, pad=cfg.pad, random_crop="pad", erasing_p=cfg.erasing_p,
        erasing_fill=(0.0, 0.0, 0.0),
    )
    jitter = cfg.color_jitter
    steps = [T.ColorJitter(brightness=jitter, contrast=jitter, saturation=jitter, hue=0)] if jitter > 0 else []
    return KeypointCompose([*steps, *base.transforms])


class CAMC(Method):
    """CAMC (Wang et al., ACCV 2022): co-attention aligned mutual cross-attention of appearance and body shape."""

    name = "camc"
    config_class = CAMCConfig
    profiles = PROFILES
    default_dataset = "synthetic-cc"

    @classmethod
    def check_data(cls, config: Any, dataset: Any) -> None:
        """Before the run folder: 256x128, the HRNet file present (``hrnet``), or keypoints in the
        data set (``keypoints``: real data sets have none, every heatmap would be empty)."""
        check_input_size(int(config.data.height), int(config.data.width))
        cfg: CAMCConfig = config.camc
        if cfg.pose_source == "hrnet":
            from reid_plugin_camc.pose_weights import resolve_pose_weights

            resolve_pose_weights(cfg.pose_weights)
        elif not any(s.keypoints is not None for s in dataset.train):
            raise ConfigError(
                f"camc.pose_source = 'keypoints' needs keypoints in the data set, but "
                f"{getattr(dataset, 'name', 'this data set')!r} has none (only the synthetic ones do); "
                "use camc.pose_source=hrnet with the HRNet weights"
            )

    def __init__(self, config: Any, context: Any) -> None:
        super().__init__(config, context)
        check_input_size(int(config.data.height), int(config.data.width))
        self.pose: nn.Module | None = None

    def setup_stage(self, stage: Stage) -> None:
        """Build the model (and the frozen HRNet), Adam on every parameter and the warm-up schedule."""
        from reid_core.losses import CrossEntropyLabelSmooth
        from reid_core.models import build_backbone
        from reid_core.optim import warmup_multistep_lr

        cfg: CAMCConfig = self.cfg
        extra = {"width": cfg.width} if cfg.width != 64 else {}
        backbone = build_backbone(cfg.backbone, pretrained=cfg.pretrained, last_stride=cfg.last_stride, **extra)
        self.model = self.add_module("model", CAMCModel(backbone, self.ctx.dataset.num_train_pids))
        if cfg.pose_source == "hrnet":
            from reid_plugin_camc.hrnet import PoseHRNet
            from reid_plugin_camc.pose_weights import load_pose_weights

            net = PoseHRNet(cfg.pose_width)
            path = load_pose_weights(net, cfg.pose_weights)
            log.info("CAMC: frozen HRNet-W%d pose weights from %s", cfg.pose_width, path)
            self.pose = self.add_module("pose", net, trainable=False, persistent=False)
        else:
            log.warning("CAMC: pose_source = 'keypoints' (heatmaps from the data set's keypoints, not HRNet): "
                        "these are not the paper's pose inputs")
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = self.add_optimizer("model", torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay))
        self.add_scheduler("model", warmup_multistep_lr(optimizer, cfg.warmup_epochs, cfg.warmup_factor,
                                                        cfg.milestones, cfg.gamma, cfg.warmup_method))
        self.id_loss = CrossEntropyLabelSmooth(epsilon=cfg.label_smoothing)

    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        """One identity-balanced P x K loader (16 x 4 in the paper profile) with CAMC's augmentation."""
        loader = self.ctx.train_loader(
            self.ctx.dataset.train, sampler="identity", transform=build_camc_train_transform(self.cfg)
        )
        return {"train": loader}

    def heatmaps(self, batch: dict[str, Any]) -> torch.Tensor:
        """The 13 merged pose heatmaps ``[B, 13, 64, 32]`` of a batch (from HRNet or the keypoints)."""
        images = batch["img"]
        if self.pose is not None:
            raw = self.pose(images).float()
        else:
            if "keypoints" not in batch:
                raise ValueError("pose_source = 'keypoints' needs batch['keypoints'] (the core's ImageDataset gives it)")
            raw = render_heatmaps(batch["keypoints"].to(images.device), images.shape[-2], images.shape[-1],
                                  sigma=self.cfg.heatmap_sigma)
        return merge_face(raw).to(images.dtype)

    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        """The label-smoothed identity loss on the BNNeck logits (the only loss)."""
        data = batch["train"]
        logits = self.model(data["img"], self.heatmaps(data))
        return {"id": self.id_loss(logits, data["pid"])}

    def export_module(self) -> nn.Module:
        """Images -> features (with the frozen HRNet inside); the ``keypoints`` source cannot be
        exported, since its test features need each image's keypoints."""
        from reid_core.methods import ExportError

        if self.pose is None:
            raise ExportError(
                "camc with pose_source = 'keypoints' cannot be exported as an images -> features model: its "
                "heatmaps come from each sample's keypoints; train with camc.pose_source=hrnet to export"
            )
        return super().export_module()

    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        """The BN feature, L2-normalised."""
        feats = self.model(batch["img"], self.heatmaps(batch))
        return F.normalize(feats.float(), dim=1)
