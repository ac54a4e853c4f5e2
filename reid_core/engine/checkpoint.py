"""Checkpoints: atomic writes, RNG states, and loading with ``weights_only=True``.

A checkpoint holds only tensors and plain values (dicts, lists, numbers, strings), so that
loading never unpickles code: ``torch.load(path, weights_only=True)``. Files are written to a
temporary file in the same folder and renamed over the target (``os.replace``), so an
interrupted write never leaves a truncated ``last.pt``.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from reid_core.engine.errors import EngineError

#: Bumped when the layout of a checkpoint changes (2: ``dataset`` and ``config_digest``).
FORMAT_VERSION = 2

#: Config keys that may change when a run is resumed (where and how fast it runs, not what it
#: learns): they are left out of the config digest and ``--resume`` applies them.
RESUME_SAFE_KEYS = ("data.num_workers", "data.eval_batch_size", "train.device", "train.log_every")


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a ``DistributedDataParallel`` / ``DataParallel`` / ``FrozenModule`` wrapper."""
    from reid_core.methods.frozen import FrozenModule

    wrappers = (nn.parallel.DistributedDataParallel, nn.DataParallel, FrozenModule)
    return getattr(module, "module", module) if isinstance(module, wrappers) else module


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


def atomic_write_bytes(data: bytes, path: Path) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(text: str, path: Path) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    atomic_write_bytes(text.encode("utf-8"), path)


def load(path: Path) -> dict[str, Any]:
    """Read a checkpoint safely (no pickled code); a bad file is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"checkpoint {str(path)!r} does not exist; give the path of a .pt file written by reid run")
    if path.stat().st_size == 0:
        raise EngineError(
            f"checkpoint {str(path)!r} is empty (0 bytes): it was not written completely; "
            "use another checkpoint (best.pt / last.pt) or retrain"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = " ".join(str(exc).split()[:40]) or type(exc).__name__
        raise EngineError(
            f"checkpoint {str(path)!r} cannot be read safely (weights_only=True): {reason}; "
            "it is damaged or not a reid checkpoint: use another file"
        ) from None
    if not isinstance(state, dict) or "modules" not in state:
        raise EngineError(
            f"{str(path)!r} is not a reid checkpoint (no 'modules' entry); give a file written by reid run"
        )
    return state


def config_digest(config: Any) -> str:
    """A short hash of what a run learns from: the resolved config without :data:`RESUME_SAFE_KEYS`."""
    from reid_core.config import to_dict

    values = to_dict(config)
    for dotted in RESUME_SAFE_KEYS:
        section, _, key = dotted.partition(".")
        if isinstance(values.get(section), dict):
            values[section].pop(key, None)
    text = repr(sorted(_flatten(values).items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def run_identity(state: dict[str, Any], config_class: type | None = None) -> dict[str, str | None]:
    """``method``, ``dataset`` and ``config_digest`` of a checkpoint (older files: from its saved config)."""
    dataset, digest = state.get("dataset"), state.get("config_digest")
    if (dataset is None or digest is None) and state.get("config") and config_class is not None:
        from reid_core.config import ConfigError, loads_toml

        try:
            saved = loads_toml(config_class, state["config"])
        except (ConfigError, ValueError):
            saved = None
        if saved is not None:
            dataset = dataset or saved.data.dataset
            digest = digest or config_digest(saved)
    return {"method": state.get("method"), "dataset": dataset, "config_digest": digest}


def verify_run(state: dict[str, Any], config: Any, method: str, path: Path, config_path: Path) -> None:
    """Refuse a checkpoint that belongs to another run: method, data set and config digest must match.

    Raises:
        EngineError: naming both sides (the checkpoint's and the run folder's) and the fix.
    """
    mine = {"method": method, "dataset": config.data.dataset, "config_digest": config_digest(config)}
    theirs = run_identity(state, type(config))
    differ = [k for k in mine if theirs[k] is not None and theirs[k] != mine[k]]
    if theirs["method"] is None:
        differ.insert(0, "method")
    if not differ:
        return

    def side(values: dict[str, Any]) -> str:
        return f"method {values['method']!r} on {values['dataset']!r} (config digest {values['config_digest']})"

    raise EngineError(
        f"checkpoint {str(path)!r} belongs to another run: it holds {side(theirs)}, but {str(config_path)!r} "
        f"is {side(mine)} (they differ in {', '.join(differ)}); put the run's own checkpoint back, or start a "
        "new run with another --output"
    )


def check_finite_weights(state: dict[str, Any], path: Path) -> None:
    """NaN or inf in a checkpoint's weights is an :class:`EngineError` naming the file and the tensor."""
    for module, tensors in state.get("modules", {}).items():
        for name, tensor in tensors.items():
            if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                bad = int((~torch.isfinite(tensor)).sum())
                raise EngineError(
                    f"checkpoint {str(path)!r} holds non-finite weights: {module}.{name} has {bad} NaN/inf "
                    "value(s) (training diverged before it was saved); use an earlier checkpoint, or retrain "
                    "with a lower learning rate or train.grad_clip"
                )


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
