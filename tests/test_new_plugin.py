"""``reid new-plugin``: the generated packages are installable and their own tests pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reid_core.cli import build_cli
from reid_core.plugins import get_plugin_manager
from reid_core.scaffold import KINDS, plugin_files


def new_plugin(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(get_plugin_manager()), ["new-plugin", *args])
    return result.exit_code, result.output


def test_bad_names_existing_folders_and_core_names_are_one_line_errors(tmp_path: Path) -> None:
    code, out = new_plugin("My_Plugin", "--output", str(tmp_path))
    assert code == 1 and "Error: plugin name 'My_Plugin'" in out and "e.g. my-method" in out
    code, out = new_plugin("resnet50", "--kind", "backbone", "--output", str(tmp_path))
    assert code == 1 and "already registered by the core" in out
    assert new_plugin("mine", "--output", str(tmp_path))[0] == 0
    code, out = new_plugin("mine", "--output", str(tmp_path))
    assert code == 1 and "already exists" in out
    assert sorted(p.name for p in (tmp_path / "reid-plugin-mine").iterdir()) == [
        "README.md", "pyproject.toml", "reid_plugin_mine", "tests"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_is_valid_python_with_its_entry_point(kind: str) -> None:
    files = plugin_files("two-words", kind)
    assert '[project.entry-points.reid]\ntwo-words = "reid_plugin_two_words.plugin"' in files["pyproject.toml"]
    for path, text in files.items():
        assert "${" not in text, path
        if path.endswith(".py"):
            compile(text, path, "exec")


def _env(*paths: Path) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in paths), env.get("PYTHONPATH", "")])
    env.pop("REID_DISABLE_PLUGINS", None)
    return env


def _pytest(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_generated_method_plugin_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    assert new_plugin("tiny-method", "--output", str(tmp_path))[0] == 0
    package = tmp_path / "reid-plugin-tiny-method"
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(package)], check=True, cwd=tmp_path, capture_output=True)
    result = _pytest(package, _env(site))  # its own pyproject: testpaths, markers, the slow smoke runs too
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout


@pytest.mark.slow
def test_the_other_kinds_pass_their_fast_tests_from_source(tmp_path: Path) -> None:
    """Dataset, loss, backbone and evaluator plugins; their tests use the plugin module directly,
    so they run from the source folders (the training runs, marked slow, need an install)."""
    kinds = [k for k in KINDS if k != "method"]
    for kind in kinds:
        assert new_plugin(f"my-{kind}", "--kind", kind, "--output", str(tmp_path))[0] == 0
    packages = [tmp_path / f"reid-plugin-my-{kind}" for kind in kinds]
    result = _pytest(tmp_path, _env(*packages), "-m", "not slow", "-W", "ignore::pytest.PytestUnknownMarkWarning",
                     *(str(p / "tests") for p in packages))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "12 passed" in result.stdout
