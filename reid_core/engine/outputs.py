"""The run folder: ``config.toml``, ``log.txt``, ``metrics.json``, tensorboard events, ``checkpoints/``.

Only rank 0 creates a :class:`RunOutput` with ``enabled=True``; the other ranks get a
disabled one whose methods do nothing, so that the training loop has no rank checks.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from reid_core.config import ConfigError, dumps_toml, parse_toml_text
from reid_core.engine.checkpoint import atomic_write_text
from reid_core.engine.errors import EngineError

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def read_metrics(output_dir: Path) -> dict[str, Any]:
    """The ``metrics.json`` of a run folder (``{}`` when absent)."""
    path = Path(output_dir) / "metrics.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


#: What :func:`check_run_folder` found: a new run, a run that never finished an epoch (started
#: again with the new settings), or a run to resume.
NEW, RESTART, RESUME = "new", "restart", "resume"
RUN_SECTIONS = ("data", "train")


def check_writable(folder: Path) -> None:
    """Refuse a folder that cannot be created or written, before anything is loaded or written.

    The nearest existing ancestor must be a folder in which a file can be made (a probe file is
    created and removed at once: permission bits do not tell, e.g. under ``/proc`` or read-only mounts).
    """
    folder = Path(folder)
    ancestor = folder
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise EngineError(
            f"--output {str(folder)!r} cannot be created: {str(ancestor)!r} is a file, not a folder; "
            "choose another --output"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".reid-probe-", dir=ancestor)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise EngineError(
            f"--output {str(folder)!r} cannot be written ({exc.strerror or exc} in {str(ancestor)!r}); "
            "choose a folder you can write to"
        ) from None


def run_method(folder: Path) -> str | None:
    """The method of the run in ``folder`` (the section of its ``config.toml`` besides data/train)."""
    path = Path(folder) / "config.toml"
    try:
        values = parse_toml_text(path.read_bytes(), str(path))
    except ConfigError as exc:
        raise EngineError(f"{exc}; the run folder is damaged: restore config.toml, or choose another --output") from None
    sections = [k for k, v in values.items() if isinstance(v, dict) and k not in RUN_SECTIONS]
    return sections[0].replace("_", "-") if len(sections) == 1 else None


def check_run_folder(folder: Path, method: str, *, resume: bool) -> str:
    """What ``folder`` holds for a run of ``method``: :data:`NEW`, :data:`RESTART` or :data:`RESUME`.

    Never overwrites a user's work: a non-empty folder that is not a run of ``method`` is refused,
    and so is a run with a finished epoch unless ``resume``. A run that never finished an epoch
    (no checkpoint, no metrics) is started again with the given settings.
    """
    folder = Path(folder)
    check_writable(folder)
    if folder.exists() and not folder.is_dir():
        raise EngineError(f"--output {str(folder)!r} is a file, not a folder; choose another --output")
    entries = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    is_run = (folder / "config.toml").is_file()
    if not is_run:
        if resume:
            raise EngineError(
                f"--resume: {str(folder)!r} holds no run (no config.toml); drop --resume to start a new run there"
            )
        if entries:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            raise EngineError(
                f"--output {str(folder)!r} is not empty and is not a reid run folder (it holds {shown}); "
                "nothing was written: choose a new or empty --output"
            )
        return NEW
    owner = run_method(folder)
    if owner is not None and owner != method.replace("_", "-"):
        raise EngineError(
            f"--output {str(folder)!r} holds a run of method {owner!r}, not {method!r}; choose another --output"
        )
    trained = (folder / "checkpoints" / "last.pt").exists() or (folder / "metrics.json").exists()
    if resume:
        return RESUME
    if trained:
        raise EngineError(
            f"output folder {str(folder)!r} already holds a run (config.toml, checkpoints); "
            "pass --resume to continue it, or choose another --output"
        )
    return RESTART


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
