"""ICSR ablation on ``synthetic``: the refinement against no refinement (the same pipeline, plain
cluster-contrast on the global clusters), as a function of the ``camera_style`` dial (how strongly the
camera shifts the appearance of every image, so that global clusters split or mix by camera).

    python benchmarks/ablations/icsr.py --out runs/ablation-icsr [--styles 0 0.3] [--seeds 1 2] \\
        [--orders sequential] [--readme plugins/reid-plugin-icsr/README.md]

Per dial value and seed, stage 1 (one cluster-contrast run per camera, the ``quick`` profile) runs once
and every stage-2 arm starts from its partition file: ``ICSR (<order>)`` refines the global clusters
with it (``icsr.refine_order``; the released code's order is ``sequential``), ``no refinement`` does not.
With ``--oracle``, ``ICSR, true local partitions`` refines with the ground-truth identities as the local
partitions (a diagnostic: the refinement with perfect stage-1 partitions).
Metrics: R@1 and mAP (``market`` protocol) at the last epoch, and the pseudo labels of the last epoch
against the true identities (pairwise precision and recall over the labelled images, recall counting
removed images as misses, coverage = share of images with a label), from the run's ``log.txt``, and the
quality of the stage-1 partitions the refinement used (mean over cameras of the kept epoch's pairwise
precision and recall).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Arm, Dial, common_parser, sweep

COLUMNS = [
    ("R@1", ("market", "rank1"), 1),
    ("mAP", ("market", "mAP"), 1),
    ("label precision", (None, "precision"), 3),
    ("label recall", (None, "recall"), 3),
    ("recall incl. removed", (None, "recall_all"), 3),
    ("coverage", (None, "coverage"), 3),
    ("clusters", (None, "clusters"), 0),
    ("local precision", (None, "local_precision"), 3),
    ("local recall", (None, "local_recall"), 3),
]
LINE = re.compile(r"\[icsr\] (inter|intra-cam\d+) epoch \d+: (.*?) \(")
ORACLE = "ICSR, true local partitions"


def _log_lines(folder: Path) -> list[tuple[str, dict[str, float]]]:
    log = folder / "log.txt"
    found = LINE.findall(log.read_text()) if log.is_file() else []
    return [(stage, {k: float(v) for k, v in (item.rsplit(" ", 1) for item in text.split(", "))})
            for stage, text in found]


def label_quality(folder: Path) -> dict[str, float]:
    """The last ``[icsr] inter epoch`` line of a stage-2 run, and the stage-1 partitions it refined with."""
    inter = [values for stage, values in _log_lines(folder) if stage == "inter"]
    if not inter:
        return {}
    out = dict(inter[-1])
    if folder.name == ORACLE:
        out.update(local_precision=1.0, local_recall=1.0)
    elif folder.name.startswith("ICSR"):
        best: dict[str, dict[str, float]] = {}  # per camera: the epoch with the best silhouette (the kept one)
        for stage, values in _log_lines(folder.parent / "stage1"):
            if stage not in best or values["silhouette"] > best[stage]["silhouette"]:
                best[stage] = values
        if best:
            out["local_precision"] = sum(v["precision"] for v in best.values()) / len(best)
            out["local_recall"] = sum(v["recall"] for v in best.values()) / len(best)
    return out


def write_true_partitions(path: Path, options: dict[str, str]) -> None:
    """A ``local_labels.json`` whose local clusters are the true identities (the ``--oracle`` arm)."""
    from reid_plugin_icsr.partition import write_partitions

    from reid_core.plugins import get_registry

    dataset = get_registry("datasets").create("synthetic", None, **options)
    partitions: dict[int, dict[str, int]] = {}
    for sample in dataset.train:
        partitions.setdefault(int(sample.camid), {})[sample.key] = int(sample.pid)
    write_partitions(path, partitions)


def main(argv: list[str] | None = None) -> str:
    parser = common_parser(__doc__ or "")
    parser.add_argument("--styles", type=float, nargs="+", default=[0.0, 0.3], help="camera_style values")
    parser.add_argument("--orders", nargs="+", default=["sequential"], choices=["sequential", "simultaneous"],
                        help="refinement orders to run as arms")
    parser.add_argument("--oracle", action="store_true", help="add the arm with the true identities as local partitions")
    parser.add_argument("--ids", type=int, default=100, help="train (and test) identities of synthetic")
    parser.add_argument("--size", type=int, nargs=2, default=[128, 64], metavar=("H", "W"))
    parser.add_argument("--intra", type=int, nargs=2, default=[2, 4], metavar=("EPOCHS", "ITERS"),
                        help="stage 1 budget per camera (the quick profile's)")
    parser.add_argument("--inter", type=int, nargs=2, default=[4, 10], metavar=("EPOCHS", "ITERS"),
                        help="stage 2 budget (the quick profile's)")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="extra --set for every run")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    common = (f"icsr.intra_epochs={args.intra[0]}", f"icsr.intra_iters={args.intra[1]}",
              f"icsr.inter_epochs={args.inter[0]}", f"icsr.inter_iters={args.inter[1]}", *args.sets)

    def arms(dial: Dial, seed: int, folder: Path) -> list[Arm]:
        partitions = folder / "stage1" / "local_labels.json"
        inter = (*common, "icsr.stage=inter")
        out = [Arm("stage1", "icsr", (*common, "icsr.stage=intra"), profile="quick", report=False)]
        out += [Arm(f"ICSR ({order})", "icsr", (*inter, f"icsr.local_labels={partitions}",
                                                f"icsr.refine_order={order}"), profile="quick")
                for order in args.orders]
        if args.oracle:
            oracle = folder / "true_local_labels.json"
            write_true_partitions(oracle, {**base, **dict(dial.options), **cache})
            out.append(Arm(ORACLE, "icsr", (*inter, f"icsr.local_labels={oracle}"), profile="quick"))
        out.append(Arm("no refinement", "icsr", (*inter, "icsr.refine=false"), profile="quick"))
        return out

    base = {"ids": str(args.ids), "height": str(args.size[0]), "width": str(args.size[1])}
    cache = {"cache_dir": args.cache_dir} if args.cache_dir else {}
    dials = [Dial(f"camera_style={style:g}", (("camera_style", f"{style:g}"),)) for style in args.styles]
    budget_text = (
        f"synthetic (Market-like, 6 cameras) with {args.ids} train and {args.ids} test ids, "
        f"{args.size[0]}x{args.size[1]} generated; `quick` profile (ResNet-18 of width 16 from scratch, 64x32, "
        f"batch 32); stage 1: {args.intra[0]} epochs x {args.intra[1]} iterations per camera, run once per dial "
        f"value and seed and shared by the arms; stage 2: {args.inter[0]} epochs x {args.inter[1]} iterations; "
        f"extra: {' '.join(args.sets) or 'none'}."
    )
    return sweep("icsr", args, dials, arms, COLUMNS, base_options=base, budget=budget_text, extra=label_quality)

if __name__ == "__main__":
    print(main())
