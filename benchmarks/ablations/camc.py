"""CAMC against the strong baseline and AIM on ``synthetic-cc``, with the same budget.

Every arm trains on the same generated data (options below), at CAMC's 256x128, with the same
batches (P x K), epochs, learning-rate schedule shape and backbone (a ResNet-18 at ``--width``
from scratch: no pretrained weights exist here); each method keeps its own losses and
optimizers (its ``quick`` profile). CAMC uses keypoint heatmaps (``pose_source = "keypoints"``):
no HRNet weights exist here either, so these are not the paper's pose inputs. The arms run
through the engine by their registered names (``reid run NAME`` in-process): nothing imports a
plugin. Results: the ``cloth-changing`` and ``standard`` protocols of ``synthetic-cc``, last epoch.

It writes the raw metrics (``<out>/camc_synthetic_cc.json``) and a markdown table
(``<out>/camc_synthetic_cc.md``) with the date, git commit, synthetic generator version and seeds;
``--readme FILE`` also replaces the block between the ``camc-benchmark`` markers of FILE.

Usage::

    python benchmarks/ablations/camc.py [--epochs 6] [--ids 40] [--images 2] [--seeds 0] \\
        [--arms camc,baseline,aim] [--out benchmarks/ablations/results] [--readme plugins/reid-plugin-camc/README.md]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO
from _compare import comparison_table, flat_args, flat_parser, run_comparison

ARMS = ("camc", "baseline", "aim")
PROTOCOLS = {"cloth-changing": "cloth-changing", "standard": "standard"}
START, END = "<!-- camc-benchmark:start -->", "<!-- camc-benchmark:end -->"
NAME = "camc_synthetic_cc"


def arm_sets(arm: str, epochs: int, width: int) -> list[str]:
    """``--set`` overrides that give ``arm`` the common budget on top of its quick profile."""
    milestone = max(1, (3 * epochs) // 4)
    common = [f"{arm}.epochs={epochs}", f"{arm}.milestones=[{milestone}]", f"{arm}.lr=0.001",
              f"{arm}.backbone=resnet18", f"{arm}.pretrained=none", f"{arm}.width={width}"]
    if arm in ("camc", "baseline"):
        common += [f"{arm}.warmup_epochs=1", f"{arm}.warmup_factor=0.1"]
    if arm == "aim":
        common += [f"aim.start_epoch={max(1, epochs // 3)}"]
    return common


def data_sets(batch: int) -> list[str]:
    return ["data.height=256", "data.width=128", f"data.batch_size={batch}", "data.num_instances=4",
            "data.num_workers=0", "data.eval_batch_size=64", "train.eval_every=0", "train.amp=off",
            "train.log_every=50"]


def table(report: dict[str, Any]) -> str:
    """The markdown table (mean, and min-max over seeds) with its provenance line and command."""
    caption = (
        f"*{report['date']}, commit `{report['commit']}`, synthetic generator v{report['generator_version']}, "
        f"seeds {report['seeds']}; synthetic-cc ids={report['ids']}, images={report['images']} per camera; "
        f"{report['epochs']} epochs, batch {report['batch']} (P x 4), 256x128, ResNet-18 width {report['width']} "
        f"from scratch; CPU, {report['threads']} thread(s).*"
    )
    return comparison_table(caption, report, PROTOCOLS)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = flat_parser(__doc__ or "", arms=ARMS, seeds="0", out=REPO / "benchmarks" / "ablations" / "results",
                         readme="camc-benchmark")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--ids", type=int, default=40)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--width", type=int, default=16)
    args = flat_args(parser, argv, ARMS, (START, END))
    options = {"ids": str(args.ids), "images": str(args.images), "seed": str(args.data_seed)}
    budget = {"data_seed": args.data_seed, "ids": args.ids, "images": args.images, "epochs": args.epochs,
              "batch": args.batch, "width": args.width}
    return run_comparison(
        args, __file__, name=NAME, dataset="synthetic-cc", options=options, budget=budget, table=table,
        sets=lambda arm: [*data_sets(args.batch), *arm_sets(arm, args.epochs, args.width)],
        evaluations=PROTOCOLS, keys=("rank1", "rank5", "mAP"), markers=(START, END))


if __name__ == "__main__":
    main()
