"""The run folder: ``config.toml``, ``log.txt``, ``metrics.json``, tensorboard events, ``checkpoints/``.

Only rank 0 creates a :class:`RunOutput` with ``enabled=True``; the other ranks get a
disabled one whose methods do nothing, so that the training loop has no rank checks.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from reid_core.config import dumps_toml
from reid_core.engine.checkpoint import atomic_write_text

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def read_metrics(output_dir: Path) -> dict[str, Any]:
    """The ``metrics.json`` of a run folder (``{}`` when absent)."""
    path = Path(output_dir) / "metrics.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


class RunOutput:
    """Writes the files of one run folder (a no-op on ranks other than 0)."""

    def __init__(self, output_dir: Path, *, enabled: bool) -> None:
        self.dir = Path(output_dir)
        self.enabled = enabled
        self.checkpoints = self.dir / "checkpoints"
        self._handlers: list[logging.Handler] = []
        self._writer: Any = None

    def open(self, config: Any, *, purge_step: int | None = None, console: bool = True) -> None:
        """Create the folder, write ``config.toml``, attach ``log.txt`` and open the event writer."""
        if not self.enabled:
            return
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        atomic_write_text(dumps_toml(config), self.dir / "config.toml")
        root = logging.getLogger()
        file_handler = logging.FileHandler(self.dir / "log.txt", encoding="utf-8")
        file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        file_handler.setLevel(logging.INFO)
        self._handlers.append(file_handler)
        if console and not root.handlers:
            console_handler = logging.StreamHandler()
            console_handler.setFormatter(logging.Formatter("%(message)s"))
            console_handler.setLevel(logging.INFO)
            self._handlers.append(console_handler)
        for handler in self._handlers:
            root.addHandler(handler)
        self._old_level = root.level
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
        from tensorboardX import SummaryWriter

        self._writer = SummaryWriter(str(self.dir / "tensorboard"), purge_step=purge_step)

    def scalars(self, values: dict[str, float], step: int) -> None:
        """Tensorboard scalars (``loss/x``, ``lr/x``, ``<evaluator>/<metric>``)."""
        if self._writer is None:
            return
        for key, value in values.items():
            self._writer.add_scalar(key, value, step)
        self._writer.flush()

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Replace ``metrics.json`` atomically."""
        if self.enabled:
            atomic_write_text(json.dumps(metrics, indent=2) + "\n", self.dir / "metrics.json")

    def close(self) -> None:
        """Flush and detach everything opened by :meth:`open`."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        root = logging.getLogger()
        for handler in self._handlers:
            root.removeHandler(handler)
            handler.close()
        self._handlers = []
        if hasattr(self, "_old_level"):
            root.setLevel(self._old_level)
