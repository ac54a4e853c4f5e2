"""Vectorised numpy primitives that paint part labels into a label map.

Each primitive works on the bounding box of the shape only, so a whole person costs a few
hundred microseconds at 128x64. Only +, -, *, / and comparisons touch pixels: no transcendental
functions, so results are bit-identical across CPUs.
"""

from __future__ import annotations

import numpy as np


class Canvas:
    """A label map (uint8, H x W) with pixel-centre coordinates for painting shapes."""

    def __init__(self, height: int, width: int) -> None:
        self.h = height
        self.w = width
        self.lab = np.zeros((height, width), dtype=np.uint8)
        self.ys = (np.arange(height, dtype=np.float32) + 0.5)[:, None]
        self.xs = (np.arange(width, dtype=np.float32) + 0.5)[None, :]

    def _box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int] | None:
        ix0 = max(int(x0), 0)
        iy0 = max(int(y0), 0)
        ix1 = min(int(x1) + 2, self.w)
        iy1 = min(int(y1) + 2, self.h)
        if ix0 >= ix1 or iy0 >= iy1:
            return None
        return ix0, iy0, ix1, iy1

    def capsule(self, ax: float, ay: float, bx: float, by: float, r: float, label: int) -> None:
        """Paint the set of points within ``r`` of the segment a-b (a limb)."""
        x0 = max(int(min(ax, bx) - r), 0)
        y0 = max(int(min(ay, by) - r), 0)
        x1 = min(int(max(ax, bx) + r) + 2, self.w)
        y1 = min(int(max(ay, by) + r) + 2, self.h)
        if x0 >= x1 or y0 >= y1:
            return
        px = self.xs[:, x0:x1] - np.float32(ax)
        py = self.ys[y0:y1] - np.float32(ay)
        dx = np.float32(bx - ax)
        dy = np.float32(by - ay)
        l2 = dx * dx + dy * dy
        if l2 > 1e-6:
            t = px * dx + py * dy
            t *= np.float32(1.0) / l2
            np.maximum(t, np.float32(0.0), out=t)
            np.minimum(t, np.float32(1.0), out=t)
            ex = t * dx
            np.subtract(px, ex, out=ex)
            ey = t
            ey *= dy
            np.subtract(py, ey, out=ey)
            ex *= ex
            ey *= ey
            ex += ey
        else:
            ex = px * px + py * py
        np.putmask(self.lab[y0:y1, x0:x1], ex <= np.float32(r * r), label)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, label: int, y_max: float | None = None) -> None:
        """Paint an axis-aligned ellipse, optionally only the part above ``y_max``."""
        bottom = cy + ry if y_max is None else min(cy + ry, y_max)
        box = self._box(cx - rx, cy - ry, cx + rx, bottom)
        if box is None:
            return
        x0, y0, x1, y1 = box
        px = (self.xs[:, x0:x1] - np.float32(cx)) * np.float32(1.0 / rx)
        py = (self.ys[y0:y1] - np.float32(cy)) * np.float32(1.0 / ry)
        m = px * px + py * py <= 1
        if y_max is not None:
            m &= self.ys[y0:y1] <= np.float32(y_max)
        self.lab[y0:y1, x0:x1][m] = label

    def trapezoid(
        self, y0: float, y1: float, xl0: float, xr0: float, xl1: float, xr1: float, label: int
    ) -> None:
        """Paint a trapezoid with horizontal top (y0, xl0..xr0) and bottom (y1, xl1..xr1) edges."""
        box = self._box(min(xl0, xl1), y0, max(xr0, xr1), y1)
        if box is None or y1 <= y0:
            return
        bx0, by0, bx1, by1 = box
        t = (self.ys[by0:by1] - np.float32(y0)) * np.float32(1.0 / (y1 - y0))
        left = np.float32(xl0) + t * np.float32(xl1 - xl0)
        right = np.float32(xr0) + t * np.float32(xr1 - xr0)
        xs = self.xs[:, bx0:bx1]
        ys = self.ys[by0:by1]
        m = (xs >= left) & (xs <= right) & (ys >= np.float32(y0)) & (ys <= np.float32(y1))
        self.lab[by0:by1, bx0:bx1][m] = label

    def rect(self, x0: float, y0: float, x1: float, y1: float, label: int) -> None:
        """Paint an axis-aligned rectangle."""
        ix0, iy0 = max(round(float(x0)), 0), max(round(float(y0)), 0)
        ix1, iy1 = min(round(float(x1)), self.w), min(round(float(y1)), self.h)
        if ix0 < ix1 and iy0 < iy1:
            self.lab[iy0:iy1, ix0:ix1] = label

    def label_at(self, x: float, y: float) -> int:
        """The label under a point, or -1 outside the image."""
        ix, iy = int(x), int(y)
        if 0 <= ix < self.w and 0 <= iy < self.h and x >= 0 and y >= 0:
            return int(self.lab[iy, ix])
        return -1


def box_blur(img: np.ndarray, passes: int) -> np.ndarray:
    """A separable 3-tap box blur applied ``passes`` times (edges kept)."""
    third = np.float32(1 / 3)
    for _ in range(passes):
        out = img.copy()
        mid = out[1:-1]
        mid += img[:-2]
        mid += img[2:]
        mid *= third
        img = out
        out = img.copy()
        mid = out[:, 1:-1]
        mid += img[:, :-2]
        mid += img[:, 2:]
        mid *= third
        img = out
    return img
