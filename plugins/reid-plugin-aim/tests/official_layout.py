"""Writes a checkpoint in the official AIM layout from the plugin's own module weights (for the import tests).

The official names are spelled out here independently of ``reid_plugin_aim.official``, from the
released ``models/img_resnet.py``, ``models/PM.py``, ``models/Fusion.py`` and CAL's ``models/classifier.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

#: pyramid part index -> (official list name, index in it); part 0 is the global part
PARTS = [("global", 0)] + [(f"pcb{n}", i) for n in (2, 4, 8) for i in range(n)]


def _part_key(k: int, kind: str, rest: str) -> str:
    name, i = PARTS[k]
    if name == "global":
        return f"global_{kind}.{rest}"
    return f"{name}_{'conv' if kind == 'conv' else 'batchnorm'}_list.{i}.{rest}"


def official_state(modules: Mapping[str, Mapping[str, torch.Tensor]], *, head: str = "trans") -> dict:
    """The official ``save_checkpoint`` dict of the plugin's module state dicts (``head``: trans or linear)."""
    model = {}
    for key, value in modules["model"].items():
        model[key[len("backbone."):] if key.startswith("backbone.") else key] = value.clone()
    model2 = {}
    for key, value in modules["model2"].items():
        if key.startswith("backbone."):
            model2["features." + key[len("backbone."):]] = value.clone()
        elif key.startswith("head.parts."):
            _, _, k, layer, rest = key.split(".", 4)
            model2[_part_key(int(k), "conv" if layer == "0" else "bn", rest)] = value.clone()
        elif key == "head.linear.weight":
            model2[f"{head}.weight"] = value.clone()
        else:
            assert key.startswith("head.bn."), key
            model2[key[len("head."):]] = value.clone()
    width = modules["model"]["backbone.conv1.weight"].shape[0]
    model2["features.fc.weight"] = torch.randn(1000, width * 8)  # the classic ResNet's unused classifier
    model2["features.fc.bias"] = torch.zeros(1000)
    fuse = {}
    for key, value in modules["fuse"].items():
        if key.startswith("attention.0."):
            fuse["attentions.conv." + key[len("attention.0."):]] = value.clone()
        elif key.startswith("attention.1."):
            fuse["attentions.bn." + key[len("attention.1."):]] = value.clone()
        else:
            fuse[key] = value.clone()
    return {
        "model_state_dict": model,
        "model2_state_dict": model2,
        "fuse_state_dict": fuse,
        "classifier_state_dict": {"classifier." + k: v.clone() for k, v in modules["classifier"].items()},
        "clothes_classifier_state_dict": dict(modules["clothes_classifier"]),
        "clothes_classifier2_state_dict": dict(modules["clothes_classifier2"]),
        "rank1": np.float64(0.582),
        "epoch": 59,
    }


def write_official(modules: Mapping[str, Mapping[str, torch.Tensor]], path: Path, **kwargs: str) -> Path:
    """``torch.save`` of :func:`official_state` (as the official ``main.py`` does)."""
    torch.save(official_state(modules, **kwargs), path)
    return path
