"""The contract check of a plugin's registrations: what every plugin's test suite should assert.

``check_plugin(plugin)`` loads the plugin into a fresh manager (with the core's builtins) and
returns a list of problems, empty when the plugin keeps the contract:

- it loads (no unknown hook name, no import error) and registers at least one thing;
- every name is lower case (``[a-z0-9][a-z0-9._-]*``) and has a description;
- every factory is callable; a data set factory accepts ``(root, **options)``; an evaluator
  factory called without options gives an object with ``evaluate``;
- a method is a :class:`~reid_core.methods.base.Method` subclass with nothing left abstract, its
  ``name`` equals the registered name, its ``config_class`` is a frozen attrs class whose fields all
  have defaults (so ``[method]`` sections can be partial), its ``default_dataset`` is registered,
  and every profile resolves into a valid run config.

``assert_plugin_contract(plugin)`` raises an ``AssertionError`` listing every problem.
"""

from __future__ import annotations

import inspect
import re
from types import ModuleType
from typing import Any

import attrs

from reid_core.registry import KINDS
from reid_core.testing.managers import active_plugin_manager, plugin_manager_with

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def check_config_class(cls: Any, where: str) -> list[str]:
    """Problems with a method's ``config_class``: attrs, frozen, every field with a default."""
    if not attrs.has(cls):
        return [f"{where}: config_class {cls!r} is not an attrs class (use @attrs.frozen)"]
    problems = [
        f"{where}: config field {field.name!r} has no default (every field needs one)"
        for field in attrs.fields(cls)
        if field.default is attrs.NOTHING
    ]
    if problems:
        return problems
    try:
        instance = cls()
    except Exception as exc:
        return [f"{where}: config_class() with the defaults fails: {exc}"]
    fields = attrs.fields(cls)
    if fields:
        try:
            setattr(instance, fields[0].name, getattr(instance, fields[0].name))
        except attrs.exceptions.FrozenInstanceError:
            pass
        else:
            problems.append(f"{where}: config_class {cls.__name__} is not frozen (use @attrs.frozen)")
    return problems


def _check_method(entry: Any, where: str) -> list[str]:
    from reid_core.methods.base import Method
    from reid_core.plugins import get_registry
    from reid_core.resolve import resolve_run_config

    cls = entry.factory
    if not (inspect.isclass(cls) and issubclass(cls, Method)):
        return [f"{where}: the factory must be a reid_core.Method subclass, got {cls!r}"]
    problems = []
    if inspect.isabstract(cls):
        problems.append(f"{where}: {cls.__name__} leaves abstract methods: {', '.join(sorted(cls.__abstractmethods__))}")
    if cls.name != entry.name:
        problems.append(f"{where}: {cls.__name__}.name is {cls.name!r}, registered as {entry.name!r}")
    config_class = getattr(cls, "config_class", None)
    if config_class is None:
        return [*problems, f"{where}: {cls.__name__} has no config_class"]
    problems += check_config_class(config_class, where)
    if cls.default_dataset not in get_registry("datasets"):
        problems.append(f"{where}: default_dataset {cls.default_dataset!r} is not a registered data set")
    for profile in [None, *cls.profiles]:
        try:
            resolve_run_config(cls, profile=profile, dataset=cls.default_dataset)
        except Exception as exc:
            label = f"profile {profile!r}" if profile else "the defaults"
            problems.append(f"{where}: {label} does not resolve: {exc}")
    return problems


def _check_entry(kind: str, entry: Any) -> list[str]:
    where = f"{kind[:-1]} {entry.name!r}"
    problems = []
    if not NAME_PATTERN.match(entry.name):
        problems.append(f"{where}: names are lower case letters, digits, '.', '_' or '-'")
    if not isinstance(entry.description, str) or not entry.description.strip():
        problems.append(f"{where}: no description (register(name, factory, description=...))")
    if not callable(entry.factory):
        return [*problems, f"{where}: the factory is not callable"]
    if kind == "methods":
        problems += _check_method(entry, where)
    elif kind == "datasets":
        try:
            inspect.signature(entry.factory).bind(None)
        except (TypeError, ValueError):
            problems.append(f"{where}: a data set factory is called as factory(root, **options)")
    elif kind == "evaluators":
        try:
            evaluator = entry.factory()
        except Exception as exc:
            problems.append(f"{where}: factory() without options fails: {exc}")
        else:
            if not callable(getattr(evaluator, "evaluate", None)):
                problems.append(f"{where}: the evaluator has no evaluate(query_features, gallery_features, ...)")
    return problems


def check_plugin(plugin: ModuleType | object | str, name: str | None = None) -> list[str]:
    """Problems with ``plugin``'s registrations (see the module docstring); empty when none.

    Args:
        plugin: the plugin module or object (as its entry point names it), or the name of an
            installed plugin (its entry point name).
        name: the name to register it under (default: the module's name).
    """
    from reid_core.plugins import ReidPluginManager

    if isinstance(plugin, str):
        manager = ReidPluginManager()
        plugin_name = plugin
        if plugin_name not in manager.infos:
            return [f"no installed plugin {plugin_name!r} (entry point group 'reid'); installed: "
                    f"{', '.join(sorted(manager.infos))}"]
    else:
        plugin_name = name or getattr(plugin, "__name__", None) or "plugin-under-test"
        manager = plugin_manager_with(plugin, name=plugin_name)
    info = manager.infos[plugin_name]
    if info.status != "loaded":
        return [f"plugin {plugin_name!r} did not load: {info.status} {info.error or ''}".rstrip()]
    problems: list[str] = []
    registered = 0
    with active_plugin_manager(manager):
        for kind in KINDS:
            try:
                registry = manager.registry(kind)
            except Exception as exc:
                problems.append(f"reid_register_{kind}: {exc}")
                continue
            for entry in registry:
                if entry.plugin == plugin_name:
                    registered += 1
                    problems += _check_entry(kind, entry)
    implemented = [impl for caller in (manager.pm.hook.reid_register_commands, manager.pm.hook.reid_run_start,
                                       manager.pm.hook.reid_epoch_end, manager.pm.hook.reid_run_end)
                   for impl in caller.get_hookimpls() if impl.plugin_name == plugin_name]
    if not registered and not implemented:
        problems.append(f"plugin {plugin_name!r} registers nothing and observes no event")
    return problems


def assert_plugin_contract(plugin: ModuleType | object | str, name: str | None = None) -> None:
    """``check_plugin`` as a test assertion: fails with every problem listed."""
    problems = check_plugin(plugin, name)
    if problems:
        raise AssertionError("plugin contract broken:\n  - " + "\n  - ".join(problems))


__all__ = ["NAME_PATTERN", "assert_plugin_contract", "check_config_class", "check_plugin"]
