"""``reid visualize`` and ``reid plot`` end to end: the docs' picture script at a tiny budget, and their errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner
from engine_support import one_thread
from PIL import Image

from reid_core.cli import build_cli
from reid_core.plugins import get_plugin_manager
from reid_core.visualize.commands import choose_queries

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "scripts" / "after_training_pictures.py"

_one_thread = pytest.fixture(autouse=True)(one_thread)


def _script():
    spec = importlib.util.spec_from_file_location("after_training_pictures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.slow
def test_picture_script_runs_visualize_and_plot(tmp_path: Path) -> None:
    script = _script()
    paths = script.make_pictures(tmp_path / "img", epochs=1, ids=4, test_ids=3, work=tmp_path / "work")
    assert [p.name for p in paths] == [name for name, _ in script.PICTURES]
    for path in paths:
        with Image.open(path) as img:
            assert img.format == "PNG" and img.width > 400 and img.height > 150
    runner, cli = CliRunner(), build_cli(get_plugin_manager())
    run = tmp_path / "work" / "run"
    html = tmp_path / "ranks.html"
    result = runner.invoke(cli, ["visualize", "--run", str(run), "--worst", "2", "--top", "3", "--output", str(html),
                                 "--evaluation", "cloth-changing"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = html.read_text()
    assert text.count("<tr>") == 2 and "data:image/png;base64," in text and "match" in text
    assert "ignored: same" in text or "wrong identity" in text
    both = runner.invoke(cli, ["visualize", "--run", str(run), "--worst", "1", "--queries", "2", "--output",
                               str(tmp_path / "x.png")])
    assert both.exit_code == 2 and "not both" in both.output
    unknown = runner.invoke(cli, ["visualize", "--run", str(run), "--evaluation", "nope", "--output",
                                  str(tmp_path / "x.png")])
    assert unknown.exit_code == 1 and "cloth-changing, standard, same-clothes" in unknown.output
    plain = runner.invoke(cli, ["plot", "--run", str(run), "--no-cmc", "--output", str(tmp_path / "p.svg")])
    assert plain.exit_code == 0 and (tmp_path / "p.svg").read_text().lstrip().startswith("<?xml")
    missing = runner.invoke(cli, ["plot", "--run", str(tmp_path), "--no-cmc"])
    assert missing.exit_code == 1 and "checkpoints/last.pt" in missing.output


def test_choose_queries_worst_and_spread() -> None:
    import numpy as np

    aps = np.array([50.0, np.nan, 10.0, 10.0, 90.0, 30.0])
    assert choose_queries(aps, count=None, worst=3) == [2, 3, 5]
    assert choose_queries(aps, count=3, worst=None) == [0, 3, 5]
    assert choose_queries(aps, count=None, worst=None) == [0, 2, 3, 4, 5]
