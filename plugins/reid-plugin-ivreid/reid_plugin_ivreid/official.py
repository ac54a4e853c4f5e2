"""Import the IV-ReID seed's released checkpoints (``Trial_<t>_res50_regdb_all_best.pth``,
``res50_sysumm_all_best.pth``) into reid, so the paper's table can be checked without training.

The seed saves the whole pickled ``Baseline`` module (``torch.save(model)``), which only unpickles
inside the seed's source tree; reid never unpickles code. In the seed's repository, save its state
dict once::

    python -c "import torch; torch.save(torch.load('X.pth', weights_only=False).state_dict(), 'X.state.pth')"

``X.state.pth`` has the official key layout: ``base.*`` (a ResNet-50 with a bias on every conv and
no stem ReLU), ``bottleneck.*`` (the BN head) and ``share_classifier.*``; ``module.`` prefixes (a
DataParallel save) are accepted. :func:`convert_official` checks the layout key by key against
``IVReIDModel`` in the ``paper`` configuration and returns reid's module weights; a file of another
layout is refused with the keys that do not match. The seed did not save its modality heads
(IDENet, training only), so the converted checkpoint carries freshly initialised heads: it evaluates
exactly, and is not a training state to resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from reid_core.models.weights import WeightsError, read_state_dict
from reid_plugin_ivreid.config import IVReIDConfig
from reid_plugin_ivreid.model import IVReIDModel, ModalityHeads, apply_seed_quirks

#: The model settings of the released checkpoints (``configs/res50_*_all.ini``).
OFFICIAL_MODEL = {"backbone": "resnet50", "width": 64, "last_stride": 1, "stem_relu": False, "conv_bias": True}
_SHOWN = 8


def official_model(num_classes: int, cfg: IVReIDConfig | None = None) -> IVReIDModel:
    """An untrained ``IVReIDModel`` in the released configuration (no ImageNet file needed)."""
    from reid_core.models import build_backbone

    cfg = cfg or IVReIDConfig(**OFFICIAL_MODEL)
    backbone = build_backbone(cfg.backbone, pretrained="none", last_stride=cfg.last_stride, width=cfg.width)
    return IVReIDModel(apply_seed_quirks(backbone, stem_relu=cfg.stem_relu, conv_bias=cfg.conv_bias), num_classes)


def _listed(keys: list[str]) -> str:
    return ", ".join(keys[:_SHOWN]) + (f" ... ({len(keys)} in all)" if len(keys) > _SHOWN else "")


def convert_official(
    state: dict[str, torch.Tensor], *, source: str = "checkpoint", cfg: IVReIDConfig | None = None
) -> dict[str, dict[str, torch.Tensor]]:
    """reid module weights (``{"model": ..., "heads": ...}``) from a state dict in the seed's layout.

    Raises:
        WeightsError: keys missing or unexpected, or shapes that differ; the message lists them.
    """
    state = {k.removeprefix("module."): v for k, v in state.items()}
    classifier = state.get("share_classifier.weight")
    if classifier is None or classifier.dim() != 2:
        raise WeightsError(
            f"{source}: no 'share_classifier.weight' matrix; not an IV-ReID checkpoint in the official layout "
            f"(base.*, bottleneck.*, share_classifier.*). Its keys start: {_listed(sorted(state))}"
        )
    num_classes, dim = (int(x) for x in classifier.shape)
    model = official_model(num_classes, cfg)
    expected = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    given = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    shapes = sorted(
        f"{k} (file {tuple(given[k].shape)}, model {tuple(v.shape)})"
        for k, v in expected.items()
        if k in given and given[k].shape != v.shape
    )
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys: {_listed(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {_listed(unexpected)}")
        if shapes:
            parts.append(f"shape mismatches: {_listed(shapes)}")
        raise WeightsError(
            f"{source}: not the IV-ReID official layout (ResNet-50 with conv biases, BN head, shared classifier); "
            + "; ".join(parts)
        )
    model.load_state_dict(state, strict=False)  # num_batches_tracked may be absent in old saves
    torch.manual_seed(0)
    heads = ModalityHeads(dim, num_classes, (cfg or IVReIDConfig()).head_dim)
    return {"model": model.state_dict(), "heads": heads.state_dict()}


def unwrap_official(obj: Any) -> dict[str, torch.Tensor]:
    """The state dict inside a loaded file (plain, or under ``state_dict`` / ``model``)."""
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(
            f"expected a state dict of tensors, got {type(obj).__name__}; the seed saves whole pickled models: "
            "convert it with torch.save(torch.load(FILE, weights_only=False).state_dict(), OUT) in its repository"
        )
    return obj


def read_official(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict of an official checkpoint file (a pickled module is refused with the fix)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"official checkpoint {str(path)!r} does not exist")
    try:
        return read_state_dict(path)
    except WeightsError as exc:
        raise WeightsError(
            f"{exc}. The seed saves whole pickled models; in the seed's repository convert it once with: "
            f"python -c \"import torch; torch.save(torch.load('{path.name}', weights_only=False).state_dict(), "
            f"'{path.stem}.state.pth')\" and import that file"
        ) from None


def official_checkpoint(path: str | Path, config: Any) -> dict[str, Any]:
    """A reid checkpoint (the dict ``reid eval`` reads) of the official file at ``path``, with ``config``
    (a resolved ``ivreid`` run config) as its saved configuration."""
    from reid_core import config as cfg_module
    from reid_core.engine.checkpoint import FORMAT_VERSION

    modules = convert_official(read_official(path), source=str(path), cfg=config.ivreid)
    return {
        "format": FORMAT_VERSION,
        "method": "ivreid",
        "modules": modules,
        "optimizers": {},
        "schedulers": {},
        "stage_index": 0,
        "epoch": 0,
        "finished": False,
        "imported_from": str(path),
        "config": cfg_module.dumps_toml(config),
    }
