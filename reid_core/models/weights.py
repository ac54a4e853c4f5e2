"""Pretrained weights from local files only: nothing is ever downloaded.

A ``pretrained`` spec is one of:

* ``"none"`` (or ``""``, ``"scratch"``): train from scratch;
* ``"imagenet"``: the backbone's standard file name (e.g. ``resnet50-0676ba61.pth``) looked up in
  ``$REID_WEIGHTS_DIR``, then in torch's hub cache (``~/.cache/torch/hub/checkpoints``);
* a path to a file (``~`` expanded);
* a bare file name, looked up in the same folders as ``"imagenet"``.

Files are read with ``torch.load(..., weights_only=True)``: no pickled code from a file is ever run.
Torchvision checkpoints (a plain state dict), IBN-Net releases (plain, or ``{"state_dict": ...}`` with
``module.`` prefixes) and fast-reid style ``{"model": ...}`` files are understood.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import nn

log = logging.getLogger(__name__)

WEIGHTS_DIR_ENV = "REID_WEIGHTS_DIR"
NO_WEIGHTS = ("none", "", "scratch")
STANDARD = "imagenet"

#: Standard file name -> where it comes from (printed in errors; never fetched).
KNOWN_FILES: dict[str, str] = {
    "resnet18-f37072fd.pth": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "resnet34-b627a593.pth": "https://download.pytorch.org/models/resnet34-b627a593.pth",
    "resnet50-0676ba61.pth": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
    "resnet101-63fe2227.pth": "https://download.pytorch.org/models/resnet101-63fe2227.pth",
    "resnet50_ibn_a-d9d0bb7b.pth": (
        "https://github.com/XingangPan/IBN-Net/releases/download/v1.0/resnet50_ibn_a-d9d0bb7b.pth"
    ),
}


_INITIAL_WEIGHTS_SKIPPED: contextvars.ContextVar[bool] = contextvars.ContextVar("initial_weights_skipped", default=False)


@contextlib.contextmanager
def initial_weights_skipped() -> Iterator[None]:
    """Inside this block, :func:`load_pretrained` loads nothing: the model is about to receive a
    checkpoint's weights (``reid eval``, ``reid_core.load``), so the ImageNet file is neither needed
    nor read. Evaluating a trained model must not require the file it was initialised from."""
    token = _INITIAL_WEIGHTS_SKIPPED.set(True)
    try:
        yield
    finally:
        _INITIAL_WEIGHTS_SKIPPED.reset(token)


class WeightsError(Exception):
    """A weights file cannot be used (unreadable, wrong shapes); the message names the file and the fix."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """The weights file is not where it was looked for; the message names it and how to get it."""


@attrs.frozen
class LoadReport:
    """What :func:`load_pretrained` did.

    Args:
        path: the file loaded (``None`` when training from scratch).
        loaded: number of tensors copied into the model.
        missing: model keys the file did not have (they keep their initialisation).
        unexpected: file keys the model does not have (ignored; e.g. torchvision's ``fc.*``).
    """

    path: Path | None
    loaded: int = 0
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()


def search_dirs() -> list[Path]:
    """The folders where a bare file name is looked up: ``$REID_WEIGHTS_DIR`` then torch's hub cache."""
    dirs: list[Path] = []
    env = os.environ.get(WEIGHTS_DIR_ENV)
    if env:
        dirs.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p)
    dirs.append(Path(torch.hub.get_dir()) / "checkpoints")
    return dirs


def _how_to_get(file_name: str) -> str:
    url = KNOWN_FILES.get(file_name)
    where = f"download it from {url} " if url else "get it from its publisher "
    return (
        f"{where}on a machine with network access and put it in ${WEIGHTS_DIR_ENV}, or give its path as the "
        "method's pretrained option (--set <method>.pretrained=/path/to/file); pretrained = 'none' trains from scratch"
    )


def resolve_weights(spec: str, expected_file: str) -> Path | None:
    """The file a ``pretrained`` spec designates, or ``None`` for training from scratch.

    Raises:
        WeightsNotFoundError: the file does not exist; the message names the expected file name,
            the folders searched and how to get the file.
    """
    spec = str(spec).strip()
    if spec.lower() in NO_WEIGHTS:
        return None
    name = expected_file if spec.lower() == STANDARD else spec
    path = Path(name).expanduser()
    if path.is_file():
        return path
    is_bare_name = path.name == name
    if is_bare_name:
        for folder in search_dirs():
            candidate = folder / name
            if candidate.is_file():
                return candidate
    searched = ", ".join(str(d) for d in search_dirs())
    if spec.lower() == STANDARD:
        what = f"pretrained = 'imagenet' needs the file {expected_file!r}"
    elif is_bare_name:
        what = f"pretrained weights file {name!r} not found"
    else:
        what = f"pretrained weights file {str(path)!r} does not exist"
        name = path.name
    env_note = "" if os.environ.get(WEIGHTS_DIR_ENV) else f" (${WEIGHTS_DIR_ENV} is not set)"
    raise WeightsNotFoundError(
        f"{what}; searched: {searched}{env_note}. To fix it, {_how_to_get(name if is_bare_name else expected_file)}."
    )


def _unwrap(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    for key in ("state_dict", "model", "model_state"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(
            f"{path}: expected a state dict of tensors (or a dict with a 'state_dict' or 'model' key), "
            f"got {type(obj).__name__}; re-save it with torch.save(model.state_dict(), path)"
        )
    out: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        while key.startswith("module."):
            key = key[len("module.") :]
        out[key] = value
    return out


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a checkpoint safely (``weights_only=True``) and return its state dict, ``module.`` stripped."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling refused, truncated file, not a torch file
        raise WeightsError(
            f"{path}: cannot be read as weights ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            "Only plain tensor checkpoints are accepted (torch.load weights_only=True); re-save it with "
            "torch.save(state_dict, path)"
        ) from exc
    return _unwrap(obj, path)


def load_state_dict_report(model: nn.Module, state: dict[str, torch.Tensor], path: Path | None) -> LoadReport:
    """Copy ``state`` into ``model`` (non-strict, shapes must agree) and report missing/unexpected keys."""
    own = model.state_dict()
    mismatched = [
        f"{k} (file {tuple(v.shape)}, model {tuple(own[k].shape)})"
        for k, v in state.items()
        if k in own and own[k].shape != v.shape
    ]
    if mismatched:
        raise WeightsError(
            f"{path}: {len(mismatched)} tensor(s) do not fit the model: {', '.join(mismatched[:5])}"
            f"{' ...' if len(mismatched) > 5 else ''}. Is it the checkpoint of another architecture or width?"
        )
    result = model.load_state_dict(state, strict=False)
    missing = tuple(k for k in result.missing_keys if not k.endswith("num_batches_tracked"))
    unexpected = tuple(result.unexpected_keys)
    loaded = sum(1 for k in state if k in own)
    if loaded == 0:
        raise WeightsError(f"{path}: no key of the file matches the model; is it the right checkpoint?")
    log.info("loaded %d tensors from %s", loaded, path)
    if missing:
        log.warning("weights %s: %d missing key(s) keep their initialisation: %s", path, len(missing), ", ".join(missing))
    if unexpected:
        log.info("weights %s: %d unexpected key(s) ignored: %s", path, len(unexpected), ", ".join(unexpected))
    return LoadReport(path, loaded, missing, unexpected)


def load_pretrained(model: nn.Module, spec: str, expected_file: str) -> LoadReport:
    """Load the weights a ``pretrained`` spec designates into ``model``.

    Args:
        model: the module to fill (non-strict: the head's keys may be missing, ``fc.*`` unexpected).
        spec: ``"none"``, ``"imagenet"``, a path, or a file name looked up in ``$REID_WEIGHTS_DIR``.
        expected_file: the standard file name for this model (used by ``"imagenet"`` and in errors).

    Returns:
        A :class:`LoadReport` with the missing and unexpected keys (also logged).

    Raises:
        WeightsNotFoundError: the file is missing (the message says where to put it and how to get it).
        WeightsError: the file is not a tensor checkpoint or does not fit the model.
    """
    if _INITIAL_WEIGHTS_SKIPPED.get():
        log.debug("pretrained %r not loaded: a checkpoint's weights follow", spec)
        return LoadReport(None)
    path = resolve_weights(spec, expected_file)
    if path is None:
        return LoadReport(None)
    return load_state_dict_report(model, read_state_dict(path), path)
