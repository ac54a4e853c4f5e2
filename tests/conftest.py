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


@pytest.fixture(scope="session")
def user_files(tmp_path_factory: pytest.TempPathFactory):
    """A Market-1501 tree and a finished baseline run on it, made once (see bad_input_support.py)."""
    from bad_input_support import make_user_files

    return make_user_files(tmp_path_factory.mktemp("user"))


@pytest.fixture
def work(user_files, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """A fresh copy of ``user_files`` as the current folder (the bad-input tests check it is left alone)."""
    import shutil

    shutil.copytree(user_files / "base", tmp_path / "base")
    shutil.copytree(user_files / "trained", tmp_path / "trained")
    monkeypatch.chdir(tmp_path)
    return tmp_path
