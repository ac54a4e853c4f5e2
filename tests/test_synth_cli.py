"""``reid synth``: the contact sheet and argument errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from reid_core.cli import build_cli
from reid_core.datasets.synthetic.preview import contact_sheet
from reid_core.plugins import get_plugin_manager


@pytest.fixture
def invoke():
    runner = CliRunner()
    group = build_cli(get_plugin_manager())
    return lambda *args: runner.invoke(group, list(args))


def test_preview_writes_a_grid(invoke, tmp_path: Path) -> None:
    out = tmp_path / "sheet" / "preview.png"
    result = invoke("synth", "--preview", str(out), "--preset", "synthetic-cc", "--rows", "2")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    with Image.open(out) as img:
        assert img.mode == "RGB"
        assert img.size == (6 * 64, 14 + 2 * 128)  # 6 columns (3 outfits x 2 cameras), 2 people, header
    assert not list(out.parent.glob(".tmp-*"))


def test_overview_sheet_has_infrared_columns() -> None:
    sheet = np.asarray(contact_sheet("overview", rows=1, size=(32, 16)))
    ir = sheet[14:, -16:]
    assert np.array_equal(ir[..., 0], ir[..., 2])
    assert sheet.shape == (14 + 32, 10 * 16, 3)


def test_synth_needs_one_mode(invoke, tmp_path: Path) -> None:
    result = invoke("synth")
    assert result.exit_code != 0 and "exactly one of" in result.output
    result = invoke("synth", "--like", "market1501")
    assert result.exit_code != 0 and "ROOT" in result.output


def test_like_writes_a_layout_and_prints_its_statistics(invoke, tmp_path: Path) -> None:
    import json

    result = invoke("synth", "--like", "market1501", str(tmp_path), "--ids", "4", "--seed", "1")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert {"train", "query", "gallery"} <= set(stats)
    assert (tmp_path / "Market-1501-v15.09.15").is_dir()


def test_preview_palette_option(invoke, tmp_path: Path) -> None:
    out = tmp_path / "small.png"
    result = invoke("synth", "--preview", str(out), "--preset", "synthetic-ir", "--rows", "1", "--colours", "32")
    assert result.exit_code == 0, result.output
    with Image.open(out) as img:
        assert img.mode == "P" and len(img.getcolors()) <= 32
