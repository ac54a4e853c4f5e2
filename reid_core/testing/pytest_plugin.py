"""The reid pytest plugin: fixtures for plugin authors' tests, loaded automatically.

reid-core declares it under the ``pytest11`` entry point, so every pytest run in an environment
where reid-core is installed has these fixtures (``pytest -p no:reid`` turns it off). Without the
entry point (e.g. a vendored copy), enable it in a ``conftest.py``::

    pytest_plugins = ["reid_core.testing.pytest_plugin"]

Fixtures (session-scoped data sets, built once and cached under ``$REID_CACHE_DIR/testing``):

- ``reid_market``, ``reid_cloth_changing``, ``reid_infrared``, ``reid_two_domains``,
  ``reid_keypoints``: tiny synthetic data sets of each kind (see ``reid_core.testing.datasets``);
- ``reid_tiny_dataset``: a factory ``reid_tiny_dataset(kind, **options)`` for other sizes;
- ``reid_plugins``: a fresh process-wide plugin manager for the test (installed plugins plus the
  core's), restored afterwards; ``reid_plugins.register_plugin(module, "name")`` adds one;
- ``reid_smoke``: :func:`reid_core.testing.run_method_smoke` writing into the test's ``tmp_path``.

Nothing heavy is imported until a fixture is used, so the plugin costs nothing to other projects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def reid_tiny_dataset() -> Callable[..., Any]:
    """``reid_tiny_dataset(kind="market", **options)``: a tiny synthetic data set (cached)."""
    from reid_core.testing.datasets import tiny_dataset

    return tiny_dataset


@pytest.fixture(scope="session")
def reid_market(reid_tiny_dataset: Callable[..., Any]) -> Any:
    """Market-like: 4 train / 3 test identities, 3 cameras, the ``market`` protocol."""
    return reid_tiny_dataset("market")


@pytest.fixture(scope="session")
def reid_cloth_changing(reid_tiny_dataset: Callable[..., Any]) -> Any:
    """Cloth-changing: clothes ids (2 outfits per person), the CC/standard/SC protocols."""
    return reid_tiny_dataset("cloth-changing")


@pytest.fixture(scope="session")
def reid_infrared(reid_tiny_dataset: Callable[..., Any]) -> Any:
    """Visible-infrared: camera 2 is infrared; IR->visible and visible->IR evaluations."""
    return reid_tiny_dataset("infrared")


@pytest.fixture(scope="session")
def reid_two_domains(reid_tiny_dataset: Callable[..., Any]) -> Any:
    """Two domains: training persons from domain ``a``, query and gallery from domain ``b``."""
    return reid_tiny_dataset("two-domains")


@pytest.fixture(scope="session")
def reid_keypoints(reid_tiny_dataset: Callable[..., Any]) -> Any:
    """Market-like, with 17 COCO keypoints on every sample (checked)."""
    return reid_tiny_dataset("keypoints")


@pytest.fixture
def reid_plugins() -> Iterator[Any]:
    """A fresh process-wide plugin manager for one test (the previous one is restored)."""
    from reid_core.plugins import ReidPluginManager
    from reid_core.testing.managers import active_plugin_manager

    with active_plugin_manager(ReidPluginManager()) as manager:
        yield manager


@pytest.fixture
def reid_smoke(tmp_path: Path) -> Callable[..., Any]:
    """``reid_smoke(name, dataset="market", sets=...)``: ``run_method_smoke`` into ``tmp_path``."""
    from reid_core.testing.smoke import run_method_smoke

    def smoke(name: str, dataset: Any = "market", **kwargs: Any) -> Any:
        kwargs.setdefault("output_dir", tmp_path / f"smoke-{name}")
        return run_method_smoke(name, dataset, **kwargs)

    return smoke
