"""The documentation site builds strictly (when mkdocs and its plugins are installed: `pip install -e .[docs]`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "yaml"):
    pytest.importorskip(module, reason="the docs extra is not installed (pip install -e .[docs])")


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "--site-dir", str(site)]
    env_cwd = config.parent
    return subprocess.run(cmd, cwd=env_cwd, capture_output=True, text=True, timeout=300,
                          env={"NO_MKDOCS_2_WARNING": "1", **__import__("os").environ})


@pytest.mark.slow
def test_the_site_builds_strictly_with_api_reference_and_plugin_pages(tmp_path: Path) -> None:
    result = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr[-4000:]
    site = tmp_path / "site"
    assert "run_method_smoke" in (site / "api" / "testing" / "index.html").read_text()  # from the docstrings
    assert "Good is Bad" in (site / "plugin-pages" / "aim" / "index.html").read_text()  # the plugin's README
    hooks = (site / "hooks" / "index.html").read_text()
    assert 'id="reid_epoch_end"' in hooks and 'id="reid_register_methods"' in hooks  # an anchor per hook


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    """The validation settings of mkdocs.yml make a link to a missing page fatal."""
    import yaml

    ours = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config = {"site_name": "t", "docs_dir": "docs", "strict": True, "validation": ours["validation"],
              "nav": [{"Home": "index.md"}]}
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the engine](engine.md).\n")
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    result = _build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0 and "engine.md" in result.stderr
    (tmp_path / "docs" / "engine.md").write_text("# Engine\n")
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump({**config, "nav": [{"Home": "index.md"},
                                                                           {"Engine": "engine.md"}]}))
    assert _build(tmp_path / "mkdocs.yml", tmp_path / "site").returncode == 0
