"""Shared by the bad-input tests: the user's files (a Market-1501 tree and a finished run), a
snapshot of every file, and the short command line of the issue."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from click.testing import CliRunner

from reid_core.cli import build_cli
from reid_core.plugins import get_plugin_manager

MARKET = "Market-1501-v15.09.15"
QB = ["--dataset", "market1501", "--root", "base", "--profile", "quick", "--device", "cpu"]
Q = [*QB, "--set", "baseline.epochs=1", "--set", "data.batch_size=8"]


def make_user_files(root: Path) -> Path:
    """``root/base`` (a 4-identity Market-1501 tree) and ``root/trained`` (a finished 1-epoch baseline run)."""
    from reid_core.datasets.fixtures import write_layout
    from reid_core.engine import train_run
    from reid_core.methods.baseline import Baseline
    from reid_core.resolve import resolve_run_config

    write_layout("market1501", root / "base", ids=4, seed=0)
    torch.manual_seed(0)
    config = resolve_run_config(
        Baseline, dataset="market1501", root=str(root / "base"), profile="quick", device="cpu",
        sets=["baseline.epochs=1", "data.batch_size=8"],
    )
    train_run(Baseline, config, output_dir=root / "trained")
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with a hash of its content (a new, changed or removed file shows)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    """``reid ARGS`` in this process (user errors are caught as the console script does)."""
    return CliRunner().invoke(build_cli(get_plugin_manager()), list(args), env=env)
