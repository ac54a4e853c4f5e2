"""The plugin manager: the core's builtin plugins, then every entry point of group ``reid``.

Each plugin is loaded in isolation: one that fails to import, or that implements a hook the
contract does not know, is reported with its name and the reason, and the others keep working.
"""

from __future__ import annotations

import importlib
import logging
import os
import traceback
from collections.abc import Iterable
from importlib import metadata
from types import ModuleType
from typing import Any

import attrs
import pluggy

from reid_core import hookspecs
from reid_core.registry import KINDS, Registry, RegistryError, suggest

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "reid"
DISABLE_ENV = "REID_DISABLE_PLUGINS"

#: The core's own parts, registered through the same hooks as any plugin (name -> module).
BUILTIN_PLUGINS: dict[str, str] = {
    "core.datasets": "reid_core.datasets.plugin",
    "core.models": "reid_core.models.plugin",
    "core.losses": "reid_core.losses.plugin",
    "core.evaluation": "reid_core.evaluation.plugin",
    "core.methods": "reid_core.methods.plugin",
    "core.inference": "reid_core.inference.plugin",
    "core.visualize": "reid_core.visualize.plugin",
    "core.samplers": "reid_core.data.plugin",
}


class PluginError(Exception):
    """A plugin broke the contract (unknown hook, failing hook); the message names it."""


@attrs.define
class PluginInfo:
    """What ``reid plugins`` reports for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    status: str  # "loaded" | "failed" | "disabled"
    error: str | None = None
    registered: dict[str, list[str]] = attrs.Factory(dict)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def disabled_from_env() -> set[str]:
    """Plugin names listed in ``REID_DISABLE_PLUGINS`` (comma separated)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def _short_error(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


class ReidPluginManager:
    """Loads plugins, validates their hooks and builds the registries on first use."""

    def __init__(self, disabled: Iterable[str] = (), *, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        from_env = disabled_from_env()
        self.disabled = set(disabled) | from_env
        #: plugin name -> where it was disabled (``--disable-plugin`` or ``REID_DISABLE_PLUGINS``)
        self.disabled_by = {name: DISABLE_ENV for name in from_env}
        self.disabled_by.update({name: "--disable-plugin" for name in disabled})
        self._disabled_loaders: dict[str, Any] = {}
        self.infos: dict[str, PluginInfo] = {}
        self._registries: dict[str, Registry] = {}
        for name, module in BUILTIN_PLUGINS.items():
            self._load(name, lambda module=module: importlib.import_module(module), "reid-core", None)
        if entry_points:
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                dist = getattr(ep, "dist", None)
                self._load(
                    ep.name,
                    ep.load,
                    dist.metadata["Name"] if dist is not None else None,
                    dist.version if dist is not None else None,
                )

    # -- loading ---------------------------------------------------------------------------
    def _load(self, name: str, loader: Any, distribution: str | None, version: str | None) -> None:
        if distribution == "reid-core":
            from reid_core import __version__

            version = __version__
        info = PluginInfo(name, distribution, version, "loaded")
        if name in self.infos:
            info.status, info.error = "failed", f"plugin name {name!r} is already used by another plugin"
            self.infos[f"{name} ({distribution})"] = info
            log.warning("plugin %r: %s", name, info.error)
            return
        self.infos[name] = info
        if name in self.disabled:
            info.status = "disabled"
            self._disabled_loaders[name] = loader
            return
        try:
            plugin = loader()
        except Exception as exc:  # a broken plugin must not take the others down
            info.status, info.error = "failed", _short_error(exc)
            log.warning("plugin %r failed to load: %s", name, info.error)
            return
        self.register_plugin(plugin, name, info)

    def register_plugin(self, plugin: ModuleType | object, name: str, info: PluginInfo | None = None) -> None:
        """Register an already imported plugin object (also used by tests and ``pytester``-style fixtures)."""
        if info is None:
            info = self.infos.setdefault(name, PluginInfo(name, None, None, "loaded"))
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            info.status, info.error = "failed", f"plugin {name!r} could not be registered: {exc}"
            log.warning("%s", info.error)
            return
        unknown = [
            hook_name
            for hook_name, caller in vars(self.pm.hook).items()
            if isinstance(caller, pluggy.HookCaller)
            and not caller.has_spec()
            and any(impl.plugin_name == name for impl in caller.get_hookimpls())
        ]
        if unknown:
            self.pm.unregister(name=name)
            info.status = "failed"
            info.error = (
                f"plugin {name!r} implements unknown hook(s) {', '.join(sorted(unknown))}; "
                f"valid hooks: {', '.join(self.hook_names())}"
            )
            log.warning("%s", info.error)
            return
        self._registries.clear()

    @staticmethod
    def hook_names() -> list[str]:
        return sorted(n for n in dir(hookspecs) if n.startswith("reid_"))

    # -- registries ------------------------------------------------------------------------
    def registry(self, kind: str) -> Registry:
        """The registry of ``kind`` (datasets, backbones, methods, losses, evaluators, samplers)."""
        if kind not in KINDS:
            raise RegistryError(f"unknown registry kind {kind!r}; valid kinds: {', '.join(KINDS)}")
        if kind not in self._registries:
            self._registries[kind] = self._build(kind)
        return self._registries[kind]

    def _build(self, kind: str) -> Registry:
        registry = Registry(kind)
        caller = getattr(self.pm.hook, f"reid_register_{kind}")
        # Call every implementation separately so that each entry knows its plugin.
        for impl in reversed(caller.get_hookimpls()):
            plugin = impl.plugin_name

            def register(name: str, factory: Any, *, description: str = "", _plugin: str = plugin) -> None:
                registry.add(name, factory, _plugin, description)

            try:
                impl.function(register=register)
            except RegistryError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {plugin!r} failed in hook reid_register_{kind}: {_short_error(exc)}"
                ) from exc
        for entry in registry:
            info = self.infos.get(entry.plugin)
            if info is not None:
                info.registered.setdefault(kind, []).append(entry.name)
        return registry

    def plugin_infos(self) -> list[PluginInfo]:
        """Every plugin with what it registered (all registries are built)."""
        for info in self.infos.values():
            info.registered = {}
        self._registries.clear()
        for kind in KINDS:
            self.registry(kind)
        return list(self.infos.values())

    def unknown_disabled(self) -> dict[str, str]:
        """Disabled names that match no installed plugin, with where each was given (a typo check)."""
        return {name: self.disabled_by.get(name, "--disable-plugin") for name in sorted(self.disabled - set(self.infos))}

    def check_disabled_names(self) -> None:
        """Raise :class:`PluginError` for a disabled name that matches no plugin (it would pass silently)."""
        unknown = self.unknown_disabled()
        if unknown:
            name, source = next(iter(unknown.items()))
            known = sorted(self.infos)
            raise PluginError(
                f"{source} names {name!r}, but no plugin has that name.{suggest(name, known)} "
                f"Plugins: {', '.join(known)} (see `reid plugins`)"
            )

    def disabled_provider(self, kind: str, name: str) -> str | None:
        """The disabled plugin that would register ``name`` in ``kind`` (it is imported, not registered)."""
        for plugin_name, loader in self._disabled_loaders.items():
            try:
                plugin = loader()
            except Exception:  # a broken disabled plugin: it provides nothing we can name
                continue
            hook = getattr(plugin, f"reid_register_{kind}", None)
            if hook is None:
                continue
            names: list[str] = []
            try:
                hook(register=lambda n, *args, _names=names, **kwargs: _names.append(n))
            except Exception:
                continue
            if name in names:
                return plugin_name
        return None

    def lookup(self, kind: str, name: str) -> Any:
        """``registry(kind).get(name)``; a name of a disabled plugin says which plugin and how it was disabled."""
        try:
            return self.registry(kind).get(name)
        except RegistryError:
            provider = self.disabled_provider(kind, name)
            if provider is None:
                raise
            source = self.disabled_by.get(provider, "--disable-plugin")
            raise PluginError(
                f"{kind[:-1]} {name!r} comes from plugin {provider!r}, which is disabled by {source}; "
                f"remove {provider!r} from {source} to use it"
            ) from None

    def call_event(self, hook_name: str, **kwargs: Any) -> None:
        """Notify observers of an engine event; an observer that fails is named in the error."""
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            try:
                impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
            except Exception as exc:
                raise PluginError(f"plugin {impl.plugin_name!r} failed in hook {hook_name}: {exc}") from exc


_manager: ReidPluginManager | None = None


def get_plugin_manager() -> ReidPluginManager:
    """The process-wide plugin manager, created on first use."""
    global _manager
    if _manager is None:
        _manager = ReidPluginManager()
    return _manager


def set_plugin_manager(manager: ReidPluginManager | None) -> None:
    """Replace the process-wide manager (the CLI's ``--disable-plugin``; tests)."""
    global _manager
    _manager = manager


def get_registry(kind: str) -> Registry:
    """Shortcut for ``get_plugin_manager().registry(kind)``."""
    return get_plugin_manager().registry(kind)
