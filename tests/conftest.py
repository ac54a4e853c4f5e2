"""Shared fixtures: a fresh plugin manager per test, deterministic torch, a temporary cache dir."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

os.environ.setdefault("REID_CACHE_DIR", os.path.join(os.path.dirname(__file__), ".." , ".pytest_cache", "reid-cache"))


@pytest.fixture(autouse=True)
def _isolated_plugins_and_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with the default plugin manager and the same seeds."""
    import torch

    from reid_core.plugins import set_plugin_manager

    monkeypatch.delenv("REID_DISABLE_PLUGINS", raising=False)
    set_plugin_manager(None)
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
    set_plugin_manager(None)
