"""The ``reid`` command: version, plugin listing, registry listing and name errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from reid_core import __version__
from reid_core.cli import build_cli
from reid_core.plugins import BUILTIN_PLUGINS, get_plugin_manager


@pytest.fixture
def invoke():
    runner = CliRunner()
    group = build_cli(get_plugin_manager())

    def run(*args: str):
        return runner.invoke(group, list(args), catch_exceptions=False)

    return run


def test_version(invoke) -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_plugins_json_lists_builtins_and_installed_plugins(invoke) -> None:
    result = invoke("plugins", "--json")
    assert result.exit_code == 0
    plugins = {p["name"]: p for p in json.loads(result.output)}
    assert set(BUILTIN_PLUGINS) <= set(plugins)
    for name in BUILTIN_PLUGINS:
        assert plugins[name]["distribution"] == "reid-core"
        assert plugins[name]["version"] == __version__
        assert set(plugins[name]) == {"name", "distribution", "version", "status", "error", "registered"}


def test_plugins_text_output(invoke) -> None:
    result = invoke("plugins")
    assert result.exit_code == 0
    assert "core.datasets  [loaded]  reid-core" in result.output


@pytest.mark.parametrize("kind", ["datasets", "backbones", "methods", "losses", "evaluators", "samplers"])
def test_list_kind_json(invoke, kind: str) -> None:
    result = invoke("list", kind, "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert all(set(r) == {"name", "description", "plugin"} for r in rows)
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)


def test_list_rejects_an_unknown_kind(invoke) -> None:
    result = CliRunner().invoke(build_cli(get_plugin_manager()), ["list", "model"])
    assert result.exit_code == 2 and "'datasets'" in result.output


def test_run_unknown_method_lists_choices(invoke) -> None:
    result = CliRunner().invoke(build_cli(get_plugin_manager()), ["run", "no-such-method"])
    assert result.exit_code == 1
    assert "unknown method 'no-such-method'" in result.output and "Available methods:" in result.output


def test_run_unknown_method_suggests_the_nearest(invoke) -> None:
    names = get_plugin_manager().registry("methods").names()
    if not names:
        pytest.fail("no method is registered: the core must register at least the baseline")
    typo = names[0][:-1] + "x"
    result = CliRunner().invoke(build_cli(get_plugin_manager()), ["run", typo])
    assert result.exit_code == 1 and f"Did you mean '{names[0]}'" in result.output


def test_run_bad_set_is_a_clean_error(invoke) -> None:
    names = get_plugin_manager().registry("methods").names()
    assert names, "no method is registered"
    result = CliRunner().invoke(build_cli(get_plugin_manager()), ["run", names[0], "--set", "trian.seed=1"])
    assert result.exit_code == 1
    assert "Error: unknown config key 'trian'" in result.output and "Traceback" not in result.output
