"""The comparison script ``benchmarks/ablations/ivreid.py`` runs at a tiny budget (so that it cannot rot)
and writes the raw metrics, the table with its provenance, and the README block."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "ablations" / "ivreid.py"


def test_tiny_budget_writes_json_table_and_readme(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("ivreid_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{module.START}\nold\n{module.END}\nafter\n")
    argv = ["--epochs", "1", "--iters", "1", "--ids", "4", "--batch", "8", "--width", "8", "--seeds", "0",
            "--out", str(tmp_path / "out"), "--readme", str(readme), "--cache-dir", str(tmp_path / "cache"),
            "--extra-set", "data.eval_batch_size=64"]
    report = module.main(argv)
    raw = json.loads((tmp_path / "out" / "ivreid_synthetic_ir.json").read_text())
    assert raw["seeds"] == [0] and raw["generator_version"] >= 3 and raw["commit"]
    assert [r["arm"] for r in raw["runs"]] == ["ivreid", "agw", "baseline"] == report["arms"]
    for run in raw["runs"]:
        assert any("iters_per_epoch=1" in s for s in run["sets"])
        for direction in ("ir-to-visible", "visible-to-ir"):
            assert 0.0 <= run["metrics"][direction]["rank1"] <= 100.0
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    assert "| ivreid |" in text and "| agw |" in text and "commit `" in text
    assert "Command: `python benchmarks/ablations/ivreid.py" in text
    assert (tmp_path / "out" / "ivreid_synthetic_ir.md").read_text() in text
