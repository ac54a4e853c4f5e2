"""The evaluation benchmark script runs and prints its ratios (tiny settings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "eval_speed.py"


def test_eval_speed_script_prints_ratios_and_memory():
    args = ["--dim", "8", "--queries", "40", "--reference-queries", "5"]
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "ratio evaluation / matmul:" in out
    assert "peak RSS" in out
    assert "extrapolated from 5 of 40 queries" in out
    diff = float(out.rsplit("differ by at most ", 1)[1].split()[0])
    assert diff < 1e-6  # the fast evaluation agrees with the per-query reference
