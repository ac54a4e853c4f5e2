"""Make the pictures of docs/after-training.md from the synthetic cloth-changing data.

Trains the baseline briefly on ``synthetic-cc`` (CPU, about a minute), then runs the commands the
page documents: ``reid visualize`` (cloth-changing protocol, so that grey items show both
reasons: same camera and same clothes) and ``reid plot``. Run from the repository root::

    OMP_NUM_THREADS=1 python docs/scripts/after_training_pictures.py            # writes docs/img/
    python docs/scripts/after_training_pictures.py --out /tmp/pics --epochs 1    # a quick check

The test suite runs it at a tiny budget (tests/test_after_training_pictures.py).
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]
#: (file name, reid arguments after the run folder); the run folder is added in front.
PICTURES = (
    ("after-training-ranks.png", ["visualize", "--evaluation", "cloth-changing", "--queries", "4", "--top", "8"]),
    ("after-training-worst.png", ["visualize", "--evaluation", "cloth-changing", "--worst", "2", "--top", "8"]),
    ("after-training-plot.png", ["plot"]),
)


def reid(*args: str) -> None:
    """Run one ``reid`` command in this process (errors raise)."""
    from reid_core.cli import build_cli
    from reid_core.plugins import get_plugin_manager

    build_cli(get_plugin_manager()).main(args=list(args), prog_name="reid", standalone_mode=False)


def shrink(path: Path, colours: int = 128) -> None:
    """Reduce a PNG to a palette (a smaller file in the repository)."""
    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    path.write_bytes(buffer.getvalue())


def make_pictures(out: Path, *, epochs: int = 12, ids: int = 16, test_ids: int = 8, work: Path | None = None) -> list[Path]:
    """Train, then write every picture of :data:`PICTURES` into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    work = work or Path(tempfile.mkdtemp(prefix="reid-after-training-"))
    run = work / "run"
    data = ["--dataset", "synthetic-cc", "--option", f"ids={ids}", "--option", f"test_ids={test_ids}",
            "--option", "cameras=3", "--option", "height=64", "--option", "width=32",
            "--option", f"cache_dir={work / 'cache'}"]
    sets = [f"baseline.epochs={epochs}", "baseline.width=16", "baseline.warmup_epochs=1", "baseline.milestones=[]",
            "data.batch_size=16", "data.num_instances=4", f"train.eval_every={max(epochs // 4, 1)}", "train.seed=0"]
    reid("run", "baseline", "--output", str(run), "--device", "cpu", *data, *[a for s in sets for a in ("--set", s)])
    written = []
    for name, args in PICTURES:
        target = out / name
        extra = ["--run", str(run), "--output", str(target)]
        reid(*args, *extra)
        shrink(target)
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()
    for path in make_pictures(args.out, epochs=args.epochs):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
