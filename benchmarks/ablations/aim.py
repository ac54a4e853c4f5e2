"""AIM ablation on ``synthetic-cc``: AIM against the same network with the AIM terms never switched on,
as a function of the ``outfit_lock`` dial (how strongly outfits predict identity in the training split).

    python benchmarks/ablations/aim.py --out runs/ablation-aim [--locks 0 0.5 1] [--seeds 1 2] \\
        [--ids 100] [--epochs 6] [--readme plugins/reid-plugin-aim/README.md]

Arms (all the ``quick`` profile: ResNet-18 of width 32 from scratch, 64x32 images, batch 32 = 8 x 4):
``AIM (from epoch E)`` for each ``--start-epoch E`` (the AIM terms from epoch E) and ``AIM terms off``
(``start_epoch`` = the number of epochs: the ID loss on the CAL-style ID branch, the clothing branch
trained on its own; ``--no-control`` leaves it out). Metrics: R@1 and
mAP of the cloth-changing, standard and same-clothes protocols at the last epoch.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Arm, Dial, common_parser, sweep

COLUMNS = [
    ("CC R@1", ("cloth-changing", "rank1"), 1),
    ("CC mAP", ("cloth-changing", "mAP"), 1),
    ("standard R@1", ("standard", "rank1"), 1),
    ("same-clothes R@1", ("same-clothes", "rank1"), 1),
]


def main(argv: list[str] | None = None) -> str:
    parser = common_parser(__doc__ or "")
    parser.add_argument("--locks", type=float, nargs="+", default=[0.0, 0.5, 1.0], help="outfit_lock values")
    parser.add_argument("--ids", type=int, default=100, help="train (and test) identities of synthetic-cc")
    parser.add_argument("--images", type=int, default=2, help="images per identity per camera")
    parser.add_argument("--size", type=int, nargs=2, default=[128, 64], metavar=("H", "W"),
                        help="generated image size (the quick profile trains at 64x32)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--start-epoch", type=int, nargs="+", default=[2], help="first epoch(s) of the AIM terms")
    parser.add_argument("--no-control", action="store_true", help="leave the 'AIM terms off' arm out")
    parser.add_argument("--max-iters", type=int, default=0, help="cap on iterations per epoch (0 = a full pass)")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="extra --set for both arms")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    budget = [f"aim.epochs={args.epochs}", f"aim.milestones=[{max(1, args.epochs * 2 // 3)}]",
              f"train.max_iters={args.max_iters}", *args.sets]
    arms = [Arm(f"AIM (from epoch {e})", "aim", (*budget, f"aim.start_epoch={e}"), profile="quick")
            for e in args.start_epoch]
    if not args.no_control:
        arms.append(Arm("AIM terms off", "aim", (*budget, f"aim.start_epoch={args.epochs}"), profile="quick"))
    dials = [Dial(f"outfit_lock={lock:g}", (("outfit_lock", f"{lock:g}"),)) for lock in args.locks]
    base = {"ids": str(args.ids), "images": str(args.images), "height": str(args.size[0]),
            "width": str(args.size[1])}
    iters = f"at most {args.max_iters} iterations" if args.max_iters else "one pass of the P x K sampler"
    budget_text = (
        f"synthetic-cc with {args.ids} train and {args.ids} test ids, {args.images} images per id and camera, "
        f"3 outfits, {args.size[0]}x{args.size[1]} generated; `quick` profile, {args.epochs} epochs ({iters} "
        f"of 32-image batches per epoch), milestone {max(1, args.epochs * 2 // 3)}, AIM terms from the epoch "
        f"in the arm's name or never (AIM terms off); extra: {' '.join(args.sets) or 'none'}."
    )
    return sweep("aim", args, dials, lambda dial, seed, folder: arms, COLUMNS, base_options=base, budget=budget_text)

if __name__ == "__main__":
    print(main())
