"""The contact sheet: a grid of synthetic persons (rows) across cameras, outfits and modalities (columns)."""

from __future__ import annotations

from PIL import Image, ImageDraw

from reid_core.datasets.synthetic.style import DOMAINS
from reid_core.datasets.synthetic.world import SyntheticWorld

PREVIEW_PRESETS = ("overview", "synthetic", "synthetic-cc", "synthetic-ir", "synthetic-a", "synthetic-b")
HEADER = 14


def _columns(preset: str) -> tuple[SyntheticWorld, list[tuple[str, int, int, str]]]:
    """The world to draw and the columns as (label, outfit, camid, modality)."""
    if preset not in PREVIEW_PRESETS:
        raise ValueError(f"unknown preview preset {preset!r}; choose one of {', '.join(PREVIEW_PRESETS)}")
    domain = "b" if preset == "synthetic-b" else "a"
    cams = DOMAINS[domain].cameras
    if preset == "overview":
        world = SyntheticWorld(num_ids=100, seed=0, outfits_per_id=3, num_cameras=6, domain="a")
        cols = [(f"cam{c}", 0, c, "visible") for c in range(6)]
        cols += [("outfit1", 1, 0, "visible"), ("outfit2", 2, 1, "visible")]
        cols += [("IR cam2", 0, 2, "infrared"), ("IR cam5", 1, 5, "infrared")]
    elif preset == "synthetic-cc":
        world = SyntheticWorld(num_ids=100, seed=0, outfits_per_id=3, num_cameras=6, domain="a")
        cols = [(f"o{o} cam{c}", o, c, "visible") for o in range(3) for c in (o, o + 3)]
    elif preset == "synthetic-ir":
        world = SyntheticWorld(num_ids=100, seed=0, outfits_per_id=1, num_cameras=6, domain="a")
        cols = [(f"{'IR' if c in (2, 5) else 'vis'} cam{c}", 0, c, "infrared" if c in (2, 5) else "visible")
                for c in range(6)]
    else:
        world = SyntheticWorld(num_ids=100, seed=0, outfits_per_id=1, num_cameras=cams, domain=domain)
        cols = [(f"cam{c}", 0, c, "visible") for c in range(cams)]
    return world, cols


def contact_sheet(preset: str = "overview", rows: int = 8, size: tuple[int, int] = (128, 64),
                  scale: int = 1) -> Image.Image:
    """Draw ``rows`` persons (pids 0..rows-1) across the preset's columns; a header names each column."""
    world, cols = _columns(preset)
    h, w = size
    sheet = Image.new("RGB", (w * len(cols), HEADER + h * rows), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for ci, (label, _, _, _) in enumerate(cols):
        draw.text((ci * w + 2, 1), label, fill=(0, 0, 0))
    for pid in range(rows):
        for ci, (_, outfit, cam, modality) in enumerate(cols):
            img, _ = world.render(pid, outfit, cam, modality, index=ci, size=size)
            sheet.paste(img, (ci * w, HEADER + pid * h))
    if scale > 1:
        sheet = sheet.resize((sheet.width * scale, sheet.height * scale), Image.NEAREST)
    return sheet
