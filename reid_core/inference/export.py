"""``reid export``: a method's test-time module as ONNX or TorchScript, with a dynamic batch size.

The exported model maps test-transformed images ``images [B, 3, H, W]`` to ``features [B, D]``,
the features of ``Method.extract_features`` (flip averaging and normalisation included).
After writing, the file is read back (``onnxruntime`` / ``torch.jit.load``) and its features on
two batch sizes are compared with the eager module's; a difference above the tolerance is an
:class:`~reid_core.methods.ExportError`. ONNX needs the optional extra
``pip install 'reid-core[export]'``.
"""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import attrs
import numpy as np
import torch
from torch import nn

from reid_core.engine.checkpoint import atomic_write_bytes
from reid_core.methods.base import ExportError

logger = logging.getLogger(__name__)

FORMATS = ("onnx", "torchscript")
#: Largest allowed absolute difference between exported and eager features.
TOLERANCE = 1e-4
ONNX_OPSET = 17


@attrs.frozen
class ExportReport:
    """What :func:`export_module` wrote and how close the exported features are to the eager ones."""

    path: Path
    format: str
    feature_dim: int
    max_abs_diff: float
    batch_sizes: tuple[int, ...]


def _needs(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ExportError(f"--format onnx needs the {module!r} package: pip install 'reid-core[export]'")


def _onnx_bytes(module: nn.Module, example: torch.Tensor) -> bytes:
    _needs("onnx")
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter's deprecation and tracer notes
        torch.onnx.export(
            module, (example,), buffer, input_names=["images"], output_names=["features"],
            dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}}, opset_version=ONNX_OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


def _torchscript_bytes(module: nn.Module, example: torch.Tensor) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about python values; checked below by running it
        traced = torch.jit.trace(module, (example,), check_trace=False)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)  # (TorchScript is deprecated upstream but still the portable format)
    return buffer.getvalue()


def run_exported(path: Path, fmt: str, images: torch.Tensor) -> np.ndarray:
    """Features of ``images`` from an exported file (onnxruntime on CPU, or ``torch.jit.load``)."""
    if fmt == "onnx":
        _needs("onnxruntime")
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return np.asarray(session.run(["features"], {"images": images.cpu().numpy()})[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        loaded = torch.jit.load(str(path), map_location="cpu")
    with torch.no_grad():
        return loaded(images.cpu()).numpy()


def export_module(
    module: nn.Module,
    path: Path,
    fmt: str,
    *,
    height: int,
    width: int,
    tolerance: float = TOLERANCE,
    seed: int = 0,
) -> ExportReport:
    """Export ``module`` (images -> features) to ``path`` and check it against the eager module.

    The check runs the exported file on random batches of 1 and 3 images (so a fixed batch
    size would fail) and compares with ``module`` on CPU.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    module = module.cpu().eval()
    generator = torch.Generator().manual_seed(seed)
    example = torch.randn(2, 3, height, width, generator=generator)
    with torch.no_grad():
        try:
            data = _onnx_bytes(module, example) if fmt == "onnx" else _torchscript_bytes(module, example)
        except ExportError:
            raise
        except Exception as exc:
            raise ExportError(f"exporting to {fmt} failed: {type(exc).__name__}: {exc}") from exc
    path = Path(path)
    atomic_write_bytes(data, path)
    worst, dim, sizes = 0.0, 0, (1, 3)
    for batch in sizes:
        images = torch.randn(batch, 3, height, width, generator=generator)
        with torch.no_grad():
            eager = module(images).float().numpy()
        exported = run_exported(path, fmt, images)
        if exported.shape != eager.shape:
            raise ExportError(f"{path}: exported features have shape {exported.shape}, eager ones {eager.shape}")
        worst = max(worst, float(np.abs(exported - eager).max()))
        dim = eager.shape[1]
    if worst > tolerance:
        raise ExportError(
            f"{path}: exported features differ from the eager ones by {worst:.3g} (> {tolerance:g}); "
            "the file is kept for inspection"
        )
    logger.info("exported %s (%s): max |exported - eager| = %.3g", path, fmt, worst)
    return ExportReport(path, fmt, dim, worst, sizes)
