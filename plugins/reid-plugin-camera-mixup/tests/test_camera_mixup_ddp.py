"""DDP with 2 CPU processes (gloo, torchrun): one exemplar memory, equal on both ranks after training steps."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from reid_core.datasets.fixtures import write_layout

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import torch
    from reid_plugin_camera_mixup.method import CameraMixup
    from reid_core import config as cfg, hookimpl
    from reid_core.engine import train_run
    from reid_core.plugins import get_plugin_manager

    out, root = Path(sys.argv[1]), sys.argv[2]

    class Dump:
        @hookimpl
        def reid_epoch_end(self, run, epoch, metrics):
            memory = run.method.memory
            torch.save({"memory": memory.memory.clone(), "epoch": epoch},
                       out / f"memory-rank{run.dist.rank}-epoch{epoch}.pt")

    get_plugin_manager().register_plugin(Dump(), "dump-memory")
    run_cls = cfg.run_config_class("camera-mixup", CameraMixup.config_class)
    config = cfg.resolve(run_cls, {
        "data": {"dataset": "market1501", "source": "dukemtmcreid", "root": root, "height": 32, "width": 16,
                 "batch_size": 8, "num_workers": 0, "eval_batch_size": 16},
        "train": {"device": "cpu", "seed": 1, "max_iters": 3, "log_every": 50},
        "camera_mixup": {"backbone": "resnet18", "pretrained": "none", "width": 8, "epochs": 2,
                         "intra_after": 0, "inter_after": 0, "trapezoid_ap": False},
    })
    train_run(CameraMixup, config, output_dir=out)
    """
)


def test_two_ranks_keep_one_memory(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_layout("dukemtmcreid", root, ids=6, seed=1)
    write_layout("market1501", root, ids=6, seed=2)
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = tmp_path / "run"
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(script), str(out), str(root)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    for epoch in (0, 1):
        m0 = torch.load(out / f"memory-rank0-epoch{epoch}.pt", weights_only=True)["memory"]
        m1 = torch.load(out / f"memory-rank1-epoch{epoch}.pt", weights_only=True)["memory"]
        assert torch.equal(m0, m1), f"the ranks' memories differ after epoch {epoch + 1}"
        written = (m0.norm(dim=1) - 1).abs() < 1e-4
        # 3 steps x 2 target images per rank: more than one rank's rows were written on each rank
        assert int(written.sum()) > 6
