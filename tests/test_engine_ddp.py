"""Two-process DDP training on CPU (gloo), launched with torchrun as a user would; and DDP resume."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import torch
from engine_support import final_weights, tiny_dataset

TESTS_DIR = Path(__file__).resolve().parent

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    sys.path.insert(0, {tests!r})
    from engine_support import Dummy, EnginePlugin, make_config
    from reid_core.engine import train_run
    from reid_core.plugins import set_plugin_manager
    from reid_core.testing import plugin_manager_with

    out, mode = Path(sys.argv[1]), sys.argv[2]
    set_plugin_manager(plugin_manager_with(EnginePlugin(Path({data!r})), name="engine-test"))
    config = make_config(Dummy, dummy={{"epochs": 2, "pseudo": True, "dump_weights": True}},
                         train={{"accumulate": 2}})  # accumulation: no gradient all-reduce between steps
    if mode == "interrupt":
        Dummy.interrupt_at = 1
    try:
        train_run(Dummy, config, output_dir=out, resume=mode == "resume")
    except KeyboardInterrupt:
        sys.exit(3)
    """
)


def _launch(script: Path, out: Path, mode: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(script), str(out), mode]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def _torchrun(script: Path, out: Path, mode: str) -> subprocess.CompletedProcess:
    """Launch 2 ranks; a failed launch is retried once with a warning that carries its stderr.

    One launch in about fifteen full-suite runs failed once on the 2-core CI-sized machine and could
    not be reproduced; the retry keeps CI from failing on a launcher hiccup while a real bug (which
    fails both attempts) still fails the test, and the warning keeps the hiccup visible.
    """
    result = _launch(script, out, mode)
    if mode != "interrupt" and result.returncode != 0:
        warnings.warn(f"torchrun {mode} failed once (rc {result.returncode}), retrying:\n{result.stderr[-3000:]}",
                      stacklevel=2)
        if mode == "straight":
            shutil.rmtree(out, ignore_errors=True)
        result = _launch(script, out, mode)
    return result


def test_two_process_gloo_training_and_resume(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tiny_dataset(data)  # images written once, before the ranks read them
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(tests=str(TESTS_DIR), data=str(data)))

    out = tmp_path / "straight"
    result = _torchrun(script, out, "straight")
    assert result.returncode == 0, result.stderr[-4000:]
    # DDP kept the replicas identical (BN running statistics aside: rank 0's are broadcast)
    w0 = torch.load(out / "weights-rank0-s0.pt", weights_only=True)
    w1 = torch.load(out / "weights-rank1-s0.pt", weights_only=True)
    params = [k for k in w0 if "running_" not in k and "num_batches" not in k]
    assert params
    for key in params:
        torch.testing.assert_close(w0[key], w1[key], msg=key)
    # rank 0 wrote the folder; evaluation features were gathered from both ranks
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test-eval"]["last"]["queries"] == 8
    assert (out / "log.txt").read_text().count("epoch 2/2 done") == 1
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert len(state["rng"]) == 2  # each rank's random state, for resume
    assert len(state["history"]) == 2 and state["global_step"] > 0

    # killed at the start of epoch 2, then resumed: the same weights as the uninterrupted run
    resumed = tmp_path / "resumed"
    killed = _torchrun(script, resumed, "interrupt")
    assert killed.returncode != 0 and (resumed / "checkpoints" / "last.pt").exists()
    result = _torchrun(script, resumed, "resume")
    assert result.returncode == 0, result.stderr[-4000:]
    a, b = final_weights(out), final_weights(resumed)
    for module in a:
        for key in a[module]:
            torch.testing.assert_close(a[module][key], b[module][key], msg=f"{module}.{key}")
