"""The ablation scripts (``benchmarks/ablations/``) run end to end at a tiny budget and write their reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ablation_support import load_script

ABLATIONS = Path(__file__).resolve().parents[1] / "benchmarks" / "ablations"
pytestmark = pytest.mark.slow


def _run(script: str, args: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(ABLATIONS / script), *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _check_report(out: Path, name: str, rows: list[tuple[str, str]], seeds: list[int]) -> str:
    table = (out / "table.md").read_text()
    assert "synthetic generator version 3" in table and "at commit " in table
    assert f"seeds {', '.join(map(str, seeds))}" in table and f"benchmarks/ablations/{name}.py" in table
    for dial, arm in rows:
        assert f"| {dial} | {arm} |" in table
    raw = json.loads((out / "results.json").read_text())
    assert raw["name"] == name and raw["generator_version"] == 3 and raw["seeds"] == seeds
    for run in raw["runs"]:
        run_json = out / run["dial"] / f"seed{run['seed']}" / run["arm"] / "run.json"
        assert run_json.is_file() and (run_json.parent / "metrics.json").is_file()
    return table


def test_aim_ablation_tiny(tmp_path: Path) -> None:
    out, readme = tmp_path / "aim", tmp_path / "README.md"
    readme.write_text("before\n<!-- ablation:aim start -->\nold table\n<!-- ablation:aim end -->\nafter\n")
    tiny = ["--ids", "4", "--images", "1", "--size", "32", "16", "--epochs", "2", "--start-epoch", "1",
            "--max-iters", "1", "--seeds", "1", "--locks", "0", "1", "--out", str(out), "--readme", str(readme),
            "--cache-dir", str(tmp_path / "cache")]
    tiny += [a for s in ("data.batch_size=8", "aim.width=8", "aim.part_dim=8", "data.height=32", "data.width=16",
                         "data.eval_batch_size=16") for a in ("--set", s)]
    _run("aim.py", tiny)
    rows = [(f"outfit_lock={v}", arm) for v in (0, 1) for arm in ("AIM (from epoch 1)", "AIM terms off")]
    table = _check_report(out, "aim", rows, [1])
    text = readme.read_text()
    assert text.startswith("before\n<!-- ablation:aim start -->\nGenerated ") and text.endswith("<!-- ablation:aim end -->\nafter\n")
    assert table in text and "old table" not in text
    # a second call reuses every run (nothing is trained again) and gives the same table rows
    again = _run("aim.py", tiny)
    assert "done in" in again.stderr and (out / "table.md").read_text().split("\n\n", 1)[1] == table.split("\n\n", 1)[1]
    # --only runs one arm (another process can add an arm to the same sweep)
    only = [a for a in tiny if a != str(readme)]
    only[only.index("--locks") + 1: only.index("--locks") + 3] = ["0.5"]
    only.remove("--readme")
    _run("aim.py", [*only, "--only", "AIM terms off"])
    rows = (out / "table.md").read_text().split("\n\n", 1)[1]
    assert "| outfit_lock=0.5 | AIM terms off |" in rows and "AIM (from epoch 1)" not in rows


def test_icsr_ablation_tiny(tmp_path: Path) -> None:
    out = tmp_path / "icsr"
    tiny = ["--ids", "8", "--size", "32", "16", "--intra", "1", "1", "--inter", "1", "2", "--seeds", "1",
            "--styles", "0.3", "--orders", "sequential", "simultaneous", "--oracle", "--out", str(out),
            "--cache-dir", str(tmp_path / "cache")]
    sets = ["data.batch_size=8", "data.num_instances=2", "icsr.backbone_width=8", "icsr.k1=4", "icsr.k2=2",
            "icsr.intra_ratio=2", "icsr.inter_ratio=3", "icsr.infomap_k=4", "icsr.infomap_min_sim=0",
            "icsr.infomap_min_size=1", "data.height=32", "data.width=16", "data.eval_batch_size=32"]
    tiny += [a for s in sets for a in ("--set", s)]
    _run("icsr.py", tiny)
    arms = ("ICSR (sequential)", "ICSR (simultaneous)", "ICSR, true local partitions", "no refinement")
    rows = [("camera_style=0.3", arm) for arm in arms]
    table = _check_report(out, "icsr", rows, [1])
    assert "stage1" not in table.split("\n\n", 1)[1]  # the shared first stage has no row
    raw = json.loads((out / "results.json").read_text())
    refined = next(r for r in raw["runs"] if r["arm"] == "ICSR (sequential)")
    plain = next(r for r in raw["runs"] if r["arm"] == "no refinement")
    assert 0 < refined["extra"]["coverage"] <= 1 and plain["extra"]["coverage"] == 1.0
    assert "removed" in refined["extra"] and "removed" not in plain["extra"]
    assert 0 <= refined["extra"]["local_precision"] <= 1 and "local_precision" not in plain["extra"]
    oracle = next(r for r in raw["runs"] if r["arm"] == "ICSR, true local partitions")
    assert oracle["extra"]["local_precision"] == 1.0 and oracle["extra"]["coverage"] <= 1


@pytest.mark.parametrize(("script", "results"), [
    ("camc", ABLATIONS / "results" / "camc_synthetic_cc"),
    ("ivreid", ABLATIONS.parent / "results" / "ivreid_synthetic_ir"),
    ("camera_mixup", ABLATIONS / "results" / "camera_mixup"),
])
def test_committed_tables_are_what_the_scripts_make_of_their_raw_results(script: str, results: Path) -> None:
    """The committed markdown (shown in the plugin READMEs) is the script's table of the committed raw json:
    the shared table code still writes exactly the format those runs were published in."""
    module = load_script(script)
    raw = json.loads(results.with_suffix(".json").read_text())
    page = module.table(raw["results"], raw["header"]) if script == "camera_mixup" else module.table(raw)
    assert page == results.with_suffix(".md").read_text()
