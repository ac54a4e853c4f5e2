"""Checkpoints: atomic writes, RNG states, and loading with ``weights_only=True``.

A checkpoint holds only tensors and plain values (dicts, lists, numbers, strings), so that
loading never unpickles code: ``torch.load(path, weights_only=True)``. Files are written to a
temporary file in the same folder and renamed over the target (``os.replace``), so an
interrupted write never leaves a truncated ``last.pt``.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from reid_core.engine.errors import EngineError

#: Bumped when the layout of a checkpoint changes.
FORMAT_VERSION = 1


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a ``DistributedDataParallel`` / ``DataParallel`` wrapper."""
    return getattr(module, "module", module) if isinstance(module, (nn.parallel.DistributedDataParallel, nn.DataParallel)) else module


def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: Path) -> dict[str, Any]:
    """Read a checkpoint safely (no pickled code); a bad file is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise EngineError(f"checkpoint {str(path)!r} cannot be read safely (weights_only=True): {exc}") from None
    if not isinstance(state, dict) or "modules" not in state:
        raise EngineError(f"{str(path)!r} is not a reid checkpoint (no 'modules' entry)")
    return state


def _numpy_scalar_globals() -> list[Any]:
    """NumPy scalar and dtype classes, allowed when a foreign checkpoint stores e.g. ``rank1`` as a
    ``numpy.float64`` (pickled by NumPy 1.x as ``numpy.core.multiarray.scalar``, by 2.x as ``numpy._core``)."""
    core = getattr(np, "_core", None) or np.core
    scalar = core.multiarray.scalar
    allowed: list[Any] = [scalar, (scalar, "numpy.core.multiarray.scalar"), np.dtype]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        allowed += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith("DType") and isinstance(getattr(dtypes, n), type)]
    return allowed


def load_foreign(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by another code base (``reid eval --from``), still without unpickling code.

    Tensors, plain values and NumPy scalars/dtypes are allowed; anything else is a clear error.
    """
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"checkpoint {str(path)!r} does not exist")
    try:
        with torch.serialization.safe_globals(_numpy_scalar_globals()):
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"checkpoint {str(path)!r} cannot be read safely (weights_only=True): {first}") from None
    if not isinstance(state, dict):
        raise EngineError(f"checkpoint {str(path)!r} holds a {type(state).__name__}, not a dict of state dicts")
    return state


# -- random number generators ---------------------------------------------------------------------
def rng_state() -> dict[str, Any]:
    """Python, NumPy, torch (and CUDA) generator states, as tensors and plain values."""
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": version, "state": list(internal), "gauss": gauss},
        "numpy": {
            "kind": np_state[0],
            "keys": np_state[1].tolist(),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "gauss": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    npy = state["numpy"]
    np.random.set_state(
        (npy["kind"], np.asarray(npy["keys"], dtype=np.uint32), npy["pos"], npy["has_gauss"], npy["gauss"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = state["cuda"]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
