"""The comparison script ``benchmarks/ablations/ivreid.py`` runs at a tiny budget (so that it cannot rot)
and writes the raw metrics, the table with its provenance, and the README block."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ablation_support import load_script, run_into_readme

pytestmark = pytest.mark.slow


def test_tiny_budget_writes_json_table_and_readme(tmp_path: Path) -> None:
    module = load_script("ivreid")
    argv = ["--epochs", "1", "--iters", "1", "--ids", "4", "--batch", "8", "--width", "8", "--seeds", "0",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"),
            "--extra-set", "data.eval_batch_size=64"]
    report, text = run_into_readme(module, argv, tmp_path)
    raw = json.loads((tmp_path / "out" / "ivreid_synthetic_ir.json").read_text())
    assert raw["seeds"] == [0] and raw["generator_version"] >= 3 and raw["commit"]
    assert [r["arm"] for r in raw["runs"]] == ["ivreid", "agw", "baseline"] == report["arms"]
    for run in raw["runs"]:
        assert any("iters_per_epoch=1" in s for s in run["sets"])
        for direction in ("ir-to-visible", "visible-to-ir"):
            assert 0.0 <= run["metrics"][direction]["rank1"] <= 100.0
    assert "| ivreid |" in text and "| agw |" in text
