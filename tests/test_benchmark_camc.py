"""The comparison script ``benchmarks/ablations/camc.py`` runs at a tiny budget (so that it cannot rot)
and writes the raw metrics, the table with its provenance, and the README block."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ablation_support import load_script, run_into_readme

from reid_core.plugins import get_registry

pytestmark = pytest.mark.slow


def test_tiny_budget_writes_json_table_and_readme(tmp_path: Path) -> None:
    module = load_script("camc")
    arms = [a for a in module.ARMS if a in get_registry("methods").names()]
    argv = ["--epochs", "1", "--ids", "3", "--images", "1", "--batch", "8", "--width", "8", "--seeds", "0",
            "--arms", ",".join(arms), "--out", str(tmp_path / "out"),
            "--cache-dir", str(tmp_path / "cache"), "--extra-set", "train.max_iters=1"]
    report, text = run_into_readme(module, argv, tmp_path)
    raw = json.loads((tmp_path / "out" / "camc_synthetic_cc.json").read_text())
    assert raw["seeds"] == [0] and raw["generator_version"] >= 3 and raw["commit"]
    assert [r["arm"] for r in raw["runs"]] == arms == report["arms"]
    for run in raw["runs"]:
        for protocol in ("cloth-changing", "standard"):
            assert 0.0 <= run["metrics"][protocol]["rank1"] <= 100.0
    assert "| camc |" in text
