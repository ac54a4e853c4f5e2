"""``reid plot``: the CMC curve and the per-epoch metrics of a run, with matplotlib.

Per-epoch values come from the run's ``checkpoints/last.pt`` (its ``history``: one entry per
epoch with the mean losses, learning rates and, for evaluated epochs, ``<evaluation>/<metric>``).
matplotlib is an optional dependency: ``pip install 'reid-core[export]'``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reid_core.engine import checkpoint as ckpt
from reid_core.engine.errors import EngineError

SHOWN_METRICS = ("rank1", "mAP")


def run_history(run_dir: Path) -> list[dict[str, Any]]:
    """The per-epoch entries of a run folder (from ``checkpoints/last.pt``)."""
    path = Path(run_dir) / "checkpoints" / "last.pt"
    if not path.is_file():
        raise EngineError(f"{str(run_dir)!r} has no checkpoints/last.pt: not a run folder, or no epoch finished yet")
    history = list(ckpt.load(path).get("history") or [])
    if not history:
        raise EngineError(f"{path} holds no per-epoch history")
    return history


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise EngineError("reid plot needs matplotlib: pip install 'reid-core[export]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(history: Sequence[Mapping[str, Any]], key: str) -> tuple[list[int], list[float]]:
    points = [(int(h["epoch"]), float(h[key])) for h in history if key in h]
    return [p[0] for p in points], [p[1] for p in points]


def plot_run(history: Sequence[Mapping[str, Any]], cmc: Mapping[str, np.ndarray] | None = None, *,
             title: str = "", max_rank: int = 50, image_format: str = "png") -> bytes:
    """A figure with the CMC curves (if given), the evaluation metrics per epoch and the losses per epoch."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    panels = (["cmc"] if cmc else []) + ["metrics", "losses"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
    axes = dict(zip(panels, axes[0]))
    if cmc:
        ax = axes["cmc"]
        for key, curve in cmc.items():
            ranks = np.arange(1, min(len(curve), max_rank) + 1)
            ax.plot(ranks, np.asarray(curve)[: len(ranks)], marker=".", label=key)
        ax.set(xlabel="rank", ylabel="matching rate (%)", title="CMC (best checkpoint)", ylim=(0, 101))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    keys = sorted({k for h in history for k in h if "/" in k and k.split("/", 1)[1] in SHOWN_METRICS})
    ax = axes["metrics"]
    for key in keys:
        epochs, values = _series(history, key)
        ax.plot(epochs, values, marker="o", label=key)
    ax.set(xlabel="epoch", ylabel="%", title="evaluation per epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if keys:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no evaluated epoch", ha="center", transform=ax.transAxes)
    ax = axes["losses"]
    losses = sorted({k for h in history for k in h if k.startswith("loss/")})
    for key in losses:
        epochs, values = _series(history, key)
        ax.plot(epochs, values, marker=".", label=key[len("loss/"):])
    ax.set(xlabel="epoch", ylabel="mean loss", title="training losses")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if losses:
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=image_format, dpi=100)
    plt.close(fig)
    return buffer.getvalue()
