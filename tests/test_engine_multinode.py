"""Two torchrun agents ("nodes") on this machine, one process each, one c10d rendezvous on 127.0.0.1
(gloo): the baseline trains through ``python -m reid_core run``, is interrupted after its first
epoch and resumes on both nodes (its final evaluation extracts features on both ranks); then
``reid extract`` spreads the test features over the two ranks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from reid_core.testing.datasets import tiny_dataset, tiny_options

pytestmark = pytest.mark.slow

#: An observer plugin found through its entry point: stops the run after REID_TEST_STOP_AFTER epochs,
#: as a Ctrl-C or a pre-empted SLURM job would (after the epoch's checkpoint was written).
STOPPER = '''
import os
from reid_core import hookimpl

@hookimpl
def reid_epoch_end(run, epoch, metrics):
    if os.environ.get("REID_TEST_STOP_AFTER") == str(epoch + 1):
        raise KeyboardInterrupt
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stopper_site(root: Path) -> Path:
    site = root / "site"
    dist = site / "reid_test_stopper-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "reid_test_stopper.py").write_text(STOPPER)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: reid-test-stopper\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[reid]\nstopper = reid_test_stopper\n")
    return site


def _two_nodes(args: list[str], env: dict[str, str], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start two launcher agents at once (one worker each) and wait for both."""
    port = _free_port()
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
                "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "reid-test",
                "--local-addr", "127.0.0.1", "--max-restarts", "0", "-m", "reid_core", *args]
    procs = [subprocess.Popen(launcher, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise
        results.append(subprocess.CompletedProcess(launcher, proc.returncode, out, err))
    return results


def test_two_nodes_train_interrupt_and_resume_the_baseline(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "REID_PROGRESS": "log",
           "MASTER_ADDR": "127.0.0.1"}
    env["PYTHONPATH"] = os.pathsep.join([str(_stopper_site(tmp_path)), env.get("PYTHONPATH", "")])
    env.pop("REID_DISABLE_PLUGINS", None)
    preset, options = tiny_options("market", tmp_path / "cache")
    data = ["--dataset", preset, "--device", "cpu"]
    for key, value in options.items():
        data += ["--option", f"{key}={value}"]
    sets = []
    for item in ("baseline.epochs=2", "baseline.width=8", "data.height=32", "data.width=16", "data.batch_size=8",
                 "data.num_instances=2", "data.num_workers=0", "train.max_iters=2", "train.log_every=1"):
        sets += ["--set", item]
    out = tmp_path / "run"

    stopped = _two_nodes(["run", "baseline", *data, *sets, "--output", str(out)],
                         {**env, "REID_TEST_STOP_AFTER": "1"}, tmp_path)
    assert all(r.returncode != 0 for r in stopped), [r.stderr[-2000:] for r in stopped]
    first = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert first["epoch"] == 1 and len(first["rng"]) == 2  # both ranks' random states

    resumed = _two_nodes(["run", "baseline", *data, "--output", str(out), "--resume"], env, tmp_path)
    assert all(r.returncode == 0 for r in resumed), [r.stderr[-3000:] for r in resumed]
    log = (out / "log.txt").read_text()
    assert "device cpu, 2 process(es)" in log and "resuming" in log and log.count("epoch 2/2 done") == 1
    metrics = json.loads((out / "metrics.json").read_text())
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert state["finished"] and [h["epoch"] for h in state["history"]] == [1, 2]
    last = metrics["market"]["last"]
    queries = len(tiny_dataset("market", tmp_path / "cache").query)  # the cache the ranks wrote
    assert last["queries"] + last.get("skipped", 0) == queries  # each rank extracted half; gathered in order
    printed = [r.stdout for r in resumed if r.stdout.strip().startswith("{")]
    assert len(printed) == 1 and json.loads(printed[0]) == metrics  # only rank 0 prints

    # reid extract over the same two nodes: each rank extracts half of each split, rank 0 writes the file
    feats = tmp_path / "feats.npz"
    # --checkpoint, not --run: torchrun would take --run as an abbreviation of its own --run-path
    best = str(out / "checkpoints" / "best.pt")
    extracted = _two_nodes(["extract", "--checkpoint", best, "--method", "baseline", *data, "--output", str(feats)],
                           env, tmp_path)
    assert all(r.returncode == 0 for r in extracted), [r.stderr[-3000:] for r in extracted]
    assert sum("wrote" in r.stdout for r in extracted) == 1
    from click.testing import CliRunner

    from reid_core.cli import build_cli
    from reid_core.plugins import get_plugin_manager

    evaluated = CliRunner().invoke(build_cli(get_plugin_manager()), ["evaluate-features", str(feats), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["mAP"] == pytest.approx(metrics["market"]["best"]["mAP"], abs=1e-4)
