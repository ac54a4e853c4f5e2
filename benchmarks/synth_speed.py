"""Synthetic person generator speed: images per second on one core, render only and render + PNG encode.

    .venv/bin/python benchmarks/synth_speed.py [--images 2000] [--height 128] [--width 64] [--threads 1]

The target (issue 4) is >= 1,000 images/s/core at 128x64 for rendering. numpy is held to one
thread so that the number is per core.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    """Time ``SyntheticWorld.render_array`` and render + ``encode_png`` and print both rates."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--modality", choices=["visible", "infrared", "mixed"], default="mixed")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

    from reid_core.datasets.synthetic import SyntheticWorld
    from reid_core.datasets.synthetic.cache import encode_png

    world = SyntheticWorld(num_ids=200, seed=0, outfits_per_id=3, num_cameras=6, domain="a")
    size = (args.height, args.width)

    def job(i: int) -> tuple[int, int, int, str, int]:
        modality = args.modality if args.modality != "mixed" else ("infrared" if i % 4 == 3 else "visible")
        return i % 200, i % 3, i % 6, modality, i

    for i in range(60):  # warm the per-camera background banks and the identity/outfit caches
        world.render_array(*job(i), size=size)
    jobs = [job(i) for i in range(args.images)]

    t0 = time.process_time()
    for j in jobs:
        world.render_array(*j, size=size)
    render_s = time.process_time() - t0

    t0 = time.process_time()
    nbytes = 0
    for j in jobs:
        arr, _ = world.render_array(*j, size=size)
        nbytes += len(encode_png(arr))
    encode_s = time.process_time() - t0

    result = {
        "size": f"{args.height}x{args.width}",
        "images": args.images,
        "modality": args.modality,
        "render_images_per_s_per_core": round(args.images / render_s, 1),
        "render_encode_images_per_s_per_core": round(args.images / encode_s, 1),
        "mean_png_bytes": round(nbytes / args.images),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"synthetic generator, {result['size']}, {args.images} images ({args.modality}), CPU time of one core")
        print(f"  render only         {result['render_images_per_s_per_core']:8.1f} images/s/core")
        print(f"  render + PNG encode {result['render_encode_images_per_s_per_core']:8.1f} images/s/core")
        print(f"  mean PNG size       {result['mean_png_bytes']} bytes")


if __name__ == "__main__":
    main()
