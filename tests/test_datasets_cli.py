"""``reid datasets stats`` prints what the parser reports; errors are one clean line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reid_core.cli import build_cli
from reid_core.datasets.catalog import PARSERS
from reid_core.plugins import get_plugin_manager, get_registry


def invoke(*args: str):
    return CliRunner().invoke(build_cli(get_plugin_manager()), list(args))


def test_every_parser_is_registered() -> None:
    names = get_registry("datasets").names()
    assert set(PARSERS) <= set(names)


def test_stats_json_equals_fixture(tmp_path: Path) -> None:
    from reid_core.datasets.fixtures import write_layout

    expected = write_layout("cuhk03", tmp_path, ids=4, seed=0, options={"variant": "detected"})
    result = invoke(
        "datasets", "stats", "cuhk03", "--root", str(tmp_path), "--option", "variant=detected", "--json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dataset"] == "cuhk03"
    assert report["splits"] == expected
    assert report["evaluations"][0]["protocol"] == "market"


def test_stats_text_table(tmp_path: Path) -> None:
    from reid_core.datasets.fixtures import write_layout

    write_layout("sysumm01", tmp_path, ids=4, seed=0)
    result = invoke("datasets", "stats", "sysumm01", "--root", str(tmp_path), "--option", "mode=indoor")
    assert result.exit_code == 0, result.output
    assert "infrared,visible" in result.output and "sysu-indoor" in result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert ["split", "ids", "images", "cameras", "clothes", "modalities"] in lines


def test_stats_errors(tmp_path: Path) -> None:
    result = invoke("datasets", "stats", "ltcc", "--root", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert "Error: data set 'ltcc': root" in result.output and "Traceback" not in result.output
    result = invoke("datasets", "stats", "ltcc", "--option", "oops")
    assert result.exit_code == 1 and "--option expects key=value" in result.output
    result = invoke("datasets", "stats", "markt1501")
    assert result.exit_code == 1 and "Did you mean 'market1501'" in result.output
