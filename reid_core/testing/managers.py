"""Plugin managers for tests: the core's builtins plus the plugins under test.

Example::

    from reid_core.testing import plugin_manager_with

    def test_my_dataset_is_registered():
        manager = plugin_manager_with(my_plugin_module, name="my-plugin")
        assert manager.registry("datasets").get("mydata").plugin == "my-plugin"
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from reid_core.plugins import ReidPluginManager, get_plugin_manager, set_plugin_manager


def plugin_manager_with(
    *plugins: ModuleType | object, name: str | None = None, entry_points: bool = False
) -> ReidPluginManager:
    """A fresh manager with the core's builtins plus ``plugins`` (installed entry points only on request)."""
    manager = ReidPluginManager(entry_points=entry_points)
    for i, plugin in enumerate(plugins):
        plugin_name = name if (name and len(plugins) == 1) else (name or "test-plugin") + (f"-{i}" if i else "")
        manager.register_plugin(plugin, plugin_name)
    return manager


@contextmanager
def active_plugin_manager(manager: ReidPluginManager) -> Iterator[ReidPluginManager]:
    """Make ``manager`` the process-wide one (what ``get_registry`` and the engine use) for a block."""
    previous = get_plugin_manager()
    set_plugin_manager(manager)
    try:
        yield manager
    finally:
        set_plugin_manager(previous)
