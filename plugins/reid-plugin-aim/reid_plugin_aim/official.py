"""The released AIM checkpoints (``BoomShakaY/AIM-CCReID``, PRCC and LTCC) mapped onto this plugin's modules.

The official ``main.py`` saves one dict with six state dicts (each from ``module.state_dict()`` of a
DDP-unwrapped module) plus ``rank1`` (a NumPy float) and ``epoch``:

=================================== ============================ ===================================
official key                        official module              plugin module
=================================== ============================ ===================================
``model_state_dict``                ``ResNet50`` (conv1..layer4, ``model`` = ``IDBranch``
                                    ``bn``)                      (``backbone.*``, ``bn``)
``model2_state_dict``               ``PM`` (``features`` ResNet, ``model2`` = ``ClothingBranch``
                                    ``global_conv/bn``,          (``backbone.*``, ``head.parts.k.0/1``,
                                    ``pcb{2,4,8}_conv_list.i``,  ``head.linear``, ``head.bn``)
                                    ``pcb{2,4,8}_batchnorm_list.i``,
                                    ``trans`` (``linear`` before
                                    Oct 2023), ``bn``)
``fuse_state_dict``                 ``Fusion`` (``attentions.conv``, ``fuse`` = ``Fusion`` (``attention.0``,
                                    ``attentions.bn``, ``linear``, ``attention.1``, ``linear``, ``bn``)
                                    ``bn``)
``classifier_state_dict``           ``Classifier`` (``classifier``) ``classifier`` (a plain ``Linear``)
``clothes_classifier_state_dict``   ``NormalizedClassifier``     ``clothes_classifier``
``clothes_classifier2_state_dict``  ``NormalizedClassifier``     ``clothes_classifier2``
=================================== ============================ ===================================

Only ``model_state_dict`` is required (evaluation uses the ID branch only; the older ``main.py`` and
``demo_single_image.py`` read just that one). The PM backbone's unused ImageNet ``fc`` is dropped.
A ``module.`` prefix (a checkpoint saved from the DDP wrapper) is stripped. Any other key is an error
that names it, as is a file without ``model_state_dict``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import torch

from reid_plugin_aim.model import PYRAMID_LEVELS

__all__ = ["OFFICIAL_KEYS", "OfficialCheckpointError", "from_official"]

#: Official dict key -> plugin module name (``main.py``'s ``save_checkpoint`` call).
OFFICIAL_KEYS: dict[str, str] = {
    "model_state_dict": "model",
    "model2_state_dict": "model2",
    "fuse_state_dict": "fuse",
    "classifier_state_dict": "classifier",
    "clothes_classifier_state_dict": "clothes_classifier",
    "clothes_classifier2_state_dict": "clothes_classifier2",
}
#: Plain values the official file holds besides the state dicts.
EXTRA_KEYS = ("rank1", "epoch")

_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"
_OFFSETS = {n: sum(PYRAMID_LEVELS[: i]) for i, n in enumerate(PYRAMID_LEVELS)}  # 1 -> 0, 2 -> 1, 4 -> 3, 8 -> 7


class OfficialCheckpointError(ValueError):
    """The file is not in the official AIM layout; the message names the offending keys."""


def _id_branch(key: str) -> str | None:
    if key.startswith("bn."):
        return key
    if re.match(r"(conv1|bn1|layer[1-4])\.", key):
        return "backbone." + key
    return None


def _pyramid(key: str) -> str | None:
    if key.startswith("features.fc."):
        return ""  # the classic ResNet's unused ImageNet classifier
    if key.startswith("features."):
        return "backbone." + key[len("features."):]
    if key == "global_conv.weight":
        return "head.parts.0.0.weight"
    if m := re.fullmatch(r"global_bn\." + _BN, key):
        return f"head.parts.0.1.{m.group(1)}"
    if m := re.fullmatch(r"pcb(\d+)_conv_list\.(\d+)\.weight", key):
        n, i = int(m.group(1)), int(m.group(2))
        return f"head.parts.{_OFFSETS[n] + i}.0.weight" if n in _OFFSETS and n > 1 and i < n else None
    if m := re.fullmatch(r"pcb(\d+)_batchnorm_list\.(\d+)\." + _BN, key):
        n, i = int(m.group(1)), int(m.group(2))
        return f"head.parts.{_OFFSETS[n] + i}.1.{m.group(3)}" if n in _OFFSETS and n > 1 and i < n else None
    if key in ("trans.weight", "linear.weight"):  # renamed linear -> trans in Oct 2023
        return "head.linear.weight"
    if re.fullmatch(r"bn\." + _BN, key):
        return "head." + key
    return None


def _fusion(key: str) -> str | None:
    if key == "attentions.conv.weight":
        return "attention.0.weight"
    if m := re.fullmatch(r"attentions\.bn\." + _BN, key):
        return f"attention.1.{m.group(1)}"
    if key == "linear.weight" or re.fullmatch(r"bn\." + _BN, key):
        return key
    return None


def _identity_classifier(key: str) -> str | None:
    return key[len("classifier."):] if key in ("classifier.weight", "classifier.bias") else None


def _normalized_classifier(key: str) -> str | None:
    return key if key == "weight" else None


_RENAMES: dict[str, Callable[[str], str | None]] = {
    "model": _id_branch,
    "model2": _pyramid,
    "fuse": _fusion,
    "classifier": _identity_classifier,
    "clothes_classifier": _normalized_classifier,
    "clothes_classifier2": _normalized_classifier,
}


def _convert(official: str, weights: Any) -> dict[str, torch.Tensor]:
    if not isinstance(weights, Mapping):
        raise OfficialCheckpointError(f"{official!r} must be a state dict, got {type(weights).__name__}")
    rename = _RENAMES[OFFICIAL_KEYS[official]]
    out: dict[str, torch.Tensor] = {}
    unknown = []
    for key, value in weights.items():
        key = key[len("module."):] if key.startswith("module.") else key
        new = rename(key)
        if new is None:
            unknown.append(key)
        elif new:
            out[new] = value
    if unknown:
        shown = ", ".join(map(repr, unknown[:8])) + (f" and {len(unknown) - 8} more" if len(unknown) > 8 else "")
        raise OfficialCheckpointError(f"{official} has key(s) the official AIM modules do not: {shown}")
    return out


def from_official(state: Mapping[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
    """``{plugin module: state dict}`` of an official AIM checkpoint (module docstring).

    Raises :class:`OfficialCheckpointError` naming the keys when the layout is not the official one.
    """
    if "model_state_dict" not in state:
        have = ", ".join(map(repr, sorted(map(str, state)))) or "none"
        raise OfficialCheckpointError(
            f"no 'model_state_dict' (the ID branch); an official AIM checkpoint has {', '.join(OFFICIAL_KEYS)}; "
            f"this file has: {have}"
        )
    unknown = sorted(str(k) for k in state if k not in OFFICIAL_KEYS and k not in EXTRA_KEYS)
    if unknown:
        raise OfficialCheckpointError(
            f"unexpected top-level key(s) {unknown}; an official AIM checkpoint has {', '.join(OFFICIAL_KEYS)}, "
            f"{', '.join(EXTRA_KEYS)}"
        )
    return {OFFICIAL_KEYS[key]: _convert(key, value) for key, value in state.items() if key in OFFICIAL_KEYS}
