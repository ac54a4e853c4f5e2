"""IV-ReID against AGW and the core's strong baseline on ``synthetic-ir``, with the same budget.

Every arm trains on the same generated visible + infrared persons, at the same image size, batch
(P x K), number of iterations (``--epochs`` x ``--iters``) and backbone (a ResNet-18 at ``--width``
from scratch: no ImageNet weights exist here); each method keeps its own losses, optimizer and
schedule (its ``quick`` profile), and its own sampler (ivreid and agw: K/2 infrared + K/2 visible
per identity; baseline: P x K without regard to the modality). The arms run through the engine by
their registered names, in-process (nothing imports a plugin). Both directions are reported:
infrared query -> visible gallery (``ir-to-visible``) and visible -> infrared (``visible-to-ir``),
last epoch, all gallery images (the ``regdb`` protocol: nothing removed).

It writes the raw metrics (``<out>/ivreid_synthetic_ir.json``) and a markdown table
(``<out>/ivreid_synthetic_ir.md``) with the date, git commit, synthetic generator version and seeds;
``--readme FILE`` also replaces the block between the ``ivreid-benchmark`` markers of FILE.

Usage::

    python benchmarks/ablations/ivreid.py [--epochs 12] [--iters 40] [--ids 100] [--seeds 0] \\
        [--arms ivreid,agw,baseline] [--out benchmarks/results] [--readme plugins/reid-plugin-ivreid/README.md]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO
from _compare import comparison_table, flat_args, flat_parser, run_comparison

ARMS = ("ivreid", "agw", "baseline")
DIRECTIONS = {"ir-to-visible": "IR->visible", "visible-to-ir": "visible->IR"}
START, END = "<!-- ivreid-benchmark:start -->", "<!-- ivreid-benchmark:end -->"
NAME = "ivreid_synthetic_ir"


def budget_sets(arm: str, args: Any) -> list[str]:
    """``--set`` overrides that give ``arm`` the common budget on top of its quick profile."""
    sets = [
        "data.height=64", "data.width=32", f"data.batch_size={args.batch}", "data.num_instances=4",
        "data.num_workers=0", "data.eval_batch_size=128", "train.eval_every=0", "train.amp=off",
        "train.log_every=100",
        f"{arm}.epochs={args.epochs}", f"{arm}.iters_per_epoch={args.iters}", f"{arm}.backbone=resnet18",
        f"{arm}.pretrained=none", f"{arm}.width={args.width}",
    ]
    milestone = max(1, (3 * args.epochs) // 4)
    if arm in ("agw", "baseline"):  # the schedule's shape scaled to the budget
        sets.append(f"{arm}.milestones=[{milestone}]")
    return sets


def table(report: dict[str, Any]) -> str:
    """The markdown table (mean, and min-max over seeds) with its provenance line and command."""
    caption = (
        f"*{report['date']}, commit `{report['commit']}`, synthetic generator v{report['generator_version']}, "
        f"training seeds {report['seeds']}, world seed {report['data_seed']}; synthetic-ir with {report['ids']} "
        f"train and {report['ids']} test ids (chance rank-1 {100 / report['ids']:.0f} %); {report['epochs']} epochs x "
        f"{report['iters']} iterations, batch {report['batch']} (P x 4), 64x32, ResNet-18 width {report['width']} "
        f"from scratch; CPU, {report['threads']} thread(s), a shared 2-core machine.*"
    )
    return comparison_table(caption, report, DIRECTIONS)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the arms, write the json and the table (and the README block); returns the report."""
    parser = flat_parser(__doc__ or "", arms=ARMS, seeds="0", out=REPO / "benchmarks" / "results",
                         readme="ivreid-benchmark")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--iters", type=int, default=40, help="iterations per epoch (the same for every arm)")
    parser.add_argument("--ids", type=int, default=100, help="train ids (and as many test ids)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    args = flat_args(parser, argv, ARMS, (START, END))
    options = {"ids": str(args.ids), "seed": str(args.data_seed)}
    budget = {"data_seed": args.data_seed, "ids": args.ids, "epochs": args.epochs, "iters": args.iters,
              "batch": args.batch, "width": args.width}
    return run_comparison(
        args, __file__, name=NAME, dataset="synthetic-ir", options=options, budget=budget, table=table,
        sets=lambda arm: budget_sets(arm, args), evaluations=DIRECTIONS, keys=("rank1", "rank10", "mAP", "mINP"),
        markers=(START, END))


if __name__ == "__main__":
    main()
