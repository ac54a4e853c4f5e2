"""After training: load a trained method, extract features, export its test-time model.

Public API: :func:`load` (also ``reid_core.load``), :class:`ReidModel`, :func:`export_module`.
See ``docs/after-training.md``.
"""

from __future__ import annotations

from reid_core.inference.export import FORMATS, ExportReport, export_module
from reid_core.inference.loader import find_checkpoint, load
from reid_core.inference.model import Extracted, ReidModel

__all__ = ["FORMATS", "ExportReport", "Extracted", "ReidModel", "export_module", "find_checkpoint", "load"]
