"""The plugin contract: loading, validation, registries and their errors."""

from __future__ import annotations

import types

import pytest

from reid_core import hookimpl
from reid_core.plugins import BUILTIN_PLUGINS, PluginError, ReidPluginManager
from reid_core.registry import RegistryError, UnknownNameError
from reid_core.testing import plugin_manager_with


def _plugin(**hooks: object) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{name: hookimpl(func) for name, func in hooks.items()})


def test_builtins_are_plugins_and_register_through_hooks() -> None:
    manager = ReidPluginManager(entry_points=False)
    assert set(BUILTIN_PLUGINS) <= set(manager.infos)
    assert all(manager.infos[name].status == "loaded" for name in BUILTIN_PLUGINS)


def test_registered_names_record_their_plugin() -> None:
    def reid_register_losses(register):
        register("my-loss", lambda: None, description="a test loss")

    manager = plugin_manager_with(_plugin(reid_register_losses=reid_register_losses), name="acme")
    entry = manager.registry("losses").get("my-loss")
    assert (entry.plugin, entry.description) == ("acme", "a test loss")
    infos = {i.name: i for i in manager.plugin_infos()}
    assert infos["acme"].registered == {"losses": ["my-loss"]}


def test_duplicate_name_names_both_plugins() -> None:
    def first(register):
        register("twice", lambda: None)

    def second(register):
        register("twice", lambda: None)

    manager = ReidPluginManager(entry_points=False)
    manager.register_plugin(_plugin(reid_register_losses=first), "alpha")
    manager.register_plugin(_plugin(reid_register_losses=second), "beta")
    with pytest.raises(RegistryError) as info:
        manager.registry("losses")
    assert "'alpha'" in str(info.value) and "'beta'" in str(info.value) and "'twice'" in str(info.value)


def test_unknown_hook_fails_that_plugin_only_and_names_plugin_and_hook() -> None:
    def reid_register_dataset(register):  # misspelled: the spec is reid_register_datasets
        register("x", lambda root: None)

    manager = ReidPluginManager(entry_points=False)
    manager.register_plugin(_plugin(reid_register_dataset=reid_register_dataset), "typo-plugin")
    info = manager.infos["typo-plugin"]
    assert info.status == "failed"
    assert "typo-plugin" in info.error and "reid_register_dataset" in info.error
    assert "x" not in manager.registry("datasets")  # its hooks are not called


def test_broken_plugin_is_reported_and_others_keep_working() -> None:
    manager = ReidPluginManager(entry_points=False)

    def boom() -> object:
        raise ImportError("No module named 'missing_dependency'")

    manager._load("broken", boom, "reid-plugin-broken", "1.0")
    assert manager.infos["broken"].status == "failed"
    assert "missing_dependency" in manager.infos["broken"].error
    assert manager.infos["core.datasets"].status == "loaded"
    manager.registry("datasets")  # still usable


def test_failing_register_hook_names_the_plugin() -> None:
    def reid_register_backbones(register):
        raise ValueError("bad backbone table")

    manager = plugin_manager_with(_plugin(reid_register_backbones=reid_register_backbones), name="flaky")
    with pytest.raises(PluginError, match="flaky.*reid_register_backbones.*bad backbone table"):
        manager.registry("backbones")


def test_disabled_plugins_from_env_and_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REID_DISABLE_PLUGINS", "core.losses, core.models")
    manager = ReidPluginManager(disabled=["core.evaluation"], entry_points=False)
    statuses = {name: manager.infos[name].status for name in BUILTIN_PLUGINS}
    assert statuses["core.losses"] == statuses["core.models"] == statuses["core.evaluation"] == "disabled"
    assert statuses["core.datasets"] == "loaded"
    assert len(manager.registry("losses")) == 0


def test_unknown_name_lists_choices_and_suggests() -> None:
    def reid_register_methods(register):
        register("alpha-method", object)
        register("beta-method", object)

    manager = plugin_manager_with(_plugin(reid_register_methods=reid_register_methods))
    with pytest.raises(UnknownNameError) as info:
        manager.registry("methods").get("alpha-methd")
    message = str(info.value)
    assert "Did you mean 'alpha-method'" in message and "beta-method" in message


def test_events_reach_observers_and_failures_name_the_plugin() -> None:
    seen = []

    def reid_epoch_end(run, epoch, metrics):
        seen.append((epoch, metrics["loss"]))

    manager = plugin_manager_with(_plugin(reid_epoch_end=reid_epoch_end), name="observer")
    manager.call_event("reid_epoch_end", run=None, epoch=3, metrics={"loss": 1.5})
    assert seen == [(3, 1.5)]

    def reid_run_end(run, metrics):
        raise RuntimeError("disk full")

    manager.register_plugin(_plugin(reid_run_end=reid_run_end), "bad-observer")
    with pytest.raises(PluginError, match="bad-observer.*reid_run_end"):
        manager.call_event("reid_run_end", run=None, metrics={})


def test_every_registry_hook_feeds_its_registry() -> None:
    calls = {}

    def make(kind: str):
        def hook(register):
            register(f"my-{kind}", lambda **kw: kind, description=kind)

        return hook

    hooks = {f"reid_register_{kind}": make(kind) for kind in ("datasets", "backbones", "methods", "losses")}
    hooks["reid_register_evaluators"] = make("evaluators")
    hooks["reid_register_samplers"] = make("samplers")
    manager = plugin_manager_with(_plugin(**hooks), name="all-kinds")
    for kind in ("datasets", "backbones", "methods", "losses", "evaluators", "samplers"):
        entry = manager.registry(kind).get(f"my-{kind}")
        calls[kind] = entry.factory()
        assert entry.plugin == "all-kinds"
    assert calls["evaluators"] == "evaluators"


def test_plugin_commands_join_the_cli() -> None:
    import click
    from click.testing import CliRunner

    from reid_core.cli import build_cli

    def reid_register_commands(cli):
        @cli.command("hello-plugin")
        def hello() -> None:
            """Say hello."""
            click.echo("hello from a plugin")

    manager = plugin_manager_with(_plugin(reid_register_commands=reid_register_commands), name="greeter")
    group = build_cli(manager)
    result = CliRunner().invoke(group, ["hello-plugin"])
    assert result.exit_code == 0 and "hello from a plugin" in result.output
    group = build_cli(ReidPluginManager(entry_points=False))  # rebuilt without it: gone again
    assert "hello-plugin" not in group.commands


def test_run_start_event_gets_the_run() -> None:
    seen = []

    def reid_run_start(run):
        seen.append(run)

    manager = plugin_manager_with(_plugin(reid_run_start=reid_run_start))
    manager.call_event("reid_run_start", run="the-run")
    assert seen == ["the-run"]
