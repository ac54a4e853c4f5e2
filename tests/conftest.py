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


def _other_cpu_product(left: np.ndarray, right: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A float32 matrix product rounded as another CPU's kernel may round it.

    Each entry whose exact value is not a float32 number is rounded down or up at random, with a
    generator seeded by the operands' shapes: the same row computed in a block of another shape can
    round the other way, as on a machine whose BLAS picks its kernel by shape. Entries that are exact
    in float32 (the products every kernel gets right) are left alone.
    """
    exact = np.matmul(left.astype(np.float64), right.astype(np.float64))
    nearest = exact.astype(np.float32)
    rng = np.random.default_rng(abs(hash((left.shape, right.shape))) % 2**32)
    inexact = nearest.astype(np.float64) != exact
    direction = np.where(rng.random(exact.shape) < 0.5, -np.inf, np.inf).astype(np.float32)
    below_or_above = np.where(exact > nearest, np.float32(np.inf), np.float32(-np.inf))
    other = np.nextafter(nearest, below_or_above)  # the float32 on the other side of the exact value
    rounded = np.where(inexact & (direction > 0), other, nearest)
    if out is None:
        return rounded.astype(np.float32)
    out[...] = rounded
    return out


@pytest.fixture(autouse=True)
def _other_cpu_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``REID_TEST_OTHER_ROUNDING=1``, evaluation distances round like another CPU's BLAS.

    CI runs the evaluation tests once more this way, so a test that depends on the last bits of a
    matrix product (and would fail on another machine) fails here too.
    """
    if os.environ.get("REID_TEST_OTHER_ROUNDING") == "1":
        from reid_core.evaluation import distance

        monkeypatch.setattr(distance, "float32_product", _other_cpu_product)


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
