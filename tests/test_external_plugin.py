"""A real external plugin, built and installed with pip, found through its entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "reid-plugin-example"


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Install docs/examples/reid-plugin-example into a private target folder; return the env to see it."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(EXAMPLE)],
        check=True, cwd=build, capture_output=True,
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")])
    env.pop("REID_DISABLE_PLUGINS", None)
    return env


def reid(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reid_core", *args], env=env, capture_output=True, text=True)


def test_reid_plugins_lists_the_installed_plugin(installed_example: dict[str, str]) -> None:
    result = reid(installed_example, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    example = plugins["example"]
    assert example["status"] == "loaded"
    assert example["distribution"] == "reid-plugin-example" and example["version"] == "0.1.0"
    assert example["registered"] == {"datasets": ["example-flat"], "losses": ["focal"]}
    assert plugins["core.datasets"]["status"] == "loaded"


def test_reid_list_datasets_shows_it_with_its_plugin(installed_example: dict[str, str]) -> None:
    result = reid(installed_example, "list", "datasets", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["example-flat"]["plugin"] == "example"
    assert "flat folder" in rows["example-flat"]["description"]


def test_disable_flag_and_env_turn_it_off(installed_example: dict[str, str]) -> None:
    result = reid(installed_example, "--disable-plugin", "example", "list", "losses", "--json")
    assert result.returncode == 0, result.stderr
    assert "focal" not in {r["name"] for r in json.loads(result.stdout)}
    env = dict(installed_example, REID_DISABLE_PLUGINS="example")
    plugins = {p["name"]: p for p in json.loads(reid(env, "plugins", "--json").stdout)}
    assert plugins["example"]["status"] == "disabled" and plugins["example"]["registered"] == {}


def test_without_the_plugin_nothing_else_breaks() -> None:
    env = dict(os.environ)
    env.pop("REID_DISABLE_PLUGINS", None)
    result = reid(env, "list", "losses", "--json")
    assert result.returncode == 0, result.stderr
    assert "focal" not in {r["name"] for r in json.loads(result.stdout)}


def test_a_broken_plugin_is_reported_and_the_rest_works(installed_example: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken_site"
    (broken / "reid_plugin_broken").mkdir(parents=True)
    (broken / "reid_plugin_broken" / "__init__.py").write_text("import a_module_that_is_not_installed\n")
    dist = broken / "reid_plugin_broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: reid-plugin-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[reid]\nbroken = reid_plugin_broken\n")
    env = dict(installed_example)
    env["PYTHONPATH"] = os.pathsep.join([str(broken), env["PYTHONPATH"]])
    result = reid(env, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["broken"]["status"] == "failed"
    assert "a_module_that_is_not_installed" in plugins["broken"]["error"]
    assert plugins["example"]["status"] == "loaded"
    assert "plugin 'broken' failed to load" in result.stderr
