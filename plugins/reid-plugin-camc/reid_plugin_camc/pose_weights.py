"""Loading the official HRNet-W48 COCO checkpoint strictly, with errors that say what is wrong.

The file is ``pose_hrnet_w48_384x288.pth`` from the HRNet model zoo (leoxiaobin/
deep-high-resolution-net.pytorch, "pose_coco" on its Google Drive / OneDrive); it is not on any
package registry and is never downloaded. It may be a raw state dict or ``{"model": state_dict}``
(``module.`` prefixes are removed). Missing keys, unexpected keys (another network: an mmpose file
has ``backbone.*`` / ``keypoint_head.*``) or a wrong shape are refused, naming the first keys.
BatchNorm ``num_batches_tracked`` counters (absent from old checkpoints, unused in eval mode) are
the one thing tolerated when missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from reid_core.models.weights import (
    WEIGHTS_DIR_ENV,
    WeightsError,
    WeightsNotFoundError,
    read_state_dict,
    search_dirs,
)

HRNET_FILE = "pose_hrnet_w48_384x288.pth"
HRNET_SOURCE = (
    "the HRNet model zoo of leoxiaobin/deep-high-resolution-net.pytorch (README, 'pretrained models': "
    "pose_coco/pose_hrnet_w48_384x288.pth on its Google Drive or OneDrive)"
)
SHOWN = 5


def _how_to_get() -> str:
    return (
        f"download {HRNET_FILE} from {HRNET_SOURCE} on a machine with network access and put it in "
        f"${WEIGHTS_DIR_ENV}, or give its path with --set camc.pose_weights=/path/{HRNET_FILE}; without "
        "weights use --set camc.pose_source=keypoints (heatmaps from the data set's keypoints: not CAMC's results)"
    )


def resolve_pose_weights(spec: str) -> Path:
    """The checkpoint file ``spec`` designates: a path, or a file name looked up in ``$REID_WEIGHTS_DIR``
    and torch's hub cache (``""`` means the official file name).

    Raises:
        WeightsNotFoundError: the file is not there; the message names it and where it comes from.
    """
    name = str(spec).strip() or HRNET_FILE
    if name.lower() in ("none", "scratch"):
        raise WeightsNotFoundError(
            f"camc.pose_source = 'hrnet' needs the frozen HRNet-W48 weights ({HRNET_FILE}); "
            f"camc.pose_weights = {spec!r} gives none. To fix it, {_how_to_get()}."
        )
    path = Path(name).expanduser()
    if path.is_file():
        return path
    if path.name == name:
        for folder in search_dirs():
            if (folder / name).is_file():
                return folder / name
    searched = ", ".join(str(d) for d in search_dirs())
    env_note = "" if os.environ.get(WEIGHTS_DIR_ENV) else f" (${WEIGHTS_DIR_ENV} is not set)"
    raise WeightsNotFoundError(
        f"HRNet pose weights {name!r} not found; searched: {path if path.name != name else searched}{env_note}. "
        f"To fix it, {_how_to_get()}."
    )


def _listed(keys: list[str]) -> str:
    return ", ".join(keys[:SHOWN]) + (f" ... ({len(keys)} in all)" if len(keys) > SHOWN else "")


def check_pose_state(model: nn.Module, state: dict[str, torch.Tensor], path: Path | str) -> None:
    """Raise :class:`WeightsError` unless ``state`` fits ``model`` exactly (see the module docstring)."""
    own = model.state_dict()
    missing = sorted(k for k in set(own) - set(state) if not k.endswith("num_batches_tracked"))
    unexpected = sorted(set(state) - set(own))
    where = f"It should be {HRNET_FILE} from {HRNET_SOURCE}."
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): {_listed(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {_listed(unexpected)}")
        raise WeightsError(f"{path}: not an HRNet-W{getattr(model, 'width', '?')} COCO checkpoint in the official "
                           f"layout ({'; '.join(parts)}). {where}")
    wrong = [f"{k} (file {tuple(v.shape)}, model {tuple(own[k].shape)})" for k, v in state.items()
             if own[k].shape != v.shape]
    if wrong:
        raise WeightsError(f"{path}: {len(wrong)} tensor(s) of another shape: {_listed(wrong)}. "
                           f"Is it another HRNet width or joint count? {where}")


def load_pose_weights(model: nn.Module, spec: str) -> Path:
    """Find, read and strictly load the HRNet checkpoint into ``model``; returns the file used."""
    path = resolve_pose_weights(spec)
    state = read_state_dict(path)
    check_pose_state(model, state, path)
    model.load_state_dict(state, strict=False)  # strict apart from the num_batches_tracked counters
    return path
