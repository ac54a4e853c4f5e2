"""The comparison script ``benchmarks/ablations/camc.py`` runs at a tiny budget (so that it cannot rot)
and writes the raw metrics, the table with its provenance, and the README block."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from reid_core.plugins import get_registry

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "ablations" / "camc.py"


def test_tiny_budget_writes_json_table_and_readme(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("camc_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    arms = [a for a in module.ARMS if a in get_registry("methods").names()]
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{module.START}\nold\n{module.END}\nafter\n")
    argv = ["--epochs", "1", "--ids", "3", "--images", "1", "--batch", "8", "--width", "8", "--seeds", "0",
            "--arms", ",".join(arms), "--out", str(tmp_path / "out"), "--readme", str(readme),
            "--cache-dir", str(tmp_path / "cache"), "--extra-set", "train.max_iters=1"]
    report = module.main(argv)
    raw = json.loads((tmp_path / "out" / "camc_synthetic_cc.json").read_text())
    assert raw["seeds"] == [0] and raw["generator_version"] >= 3 and raw["commit"]
    assert [r["arm"] for r in raw["runs"]] == arms == report["arms"]
    for run in raw["runs"]:
        for protocol in ("cloth-changing", "standard"):
            assert 0.0 <= run["metrics"][protocol]["rank1"] <= 100.0
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    assert "| camc |" in text and "commit `" in text and "Command: `python benchmarks/ablations/camc.py" in text
    assert (tmp_path / "out" / "camc_synthetic_cc.md").read_text() in text
