"""``SyntheticWorld``: a population of persons, outfits and cameras that renders person images.

    world = SyntheticWorld(num_ids=20, seed=0, outfits_per_id=2, num_cameras=6, domain="a")
    img, keypoints = world.render(pid, outfit, camid, modality="visible", index=k, size=(128, 64))

``render`` is a pure function of (world options, pid, outfit, camid, modality, index, size): the
same arguments give byte-identical images on any machine.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from reid_core.datasets.synthetic.raster import Canvas
from reid_core.datasets.synthetic.render import (
    NUM_UNIFORMS,
    Keypoints,
    apply_pattern,
    colour_palette,
    draw_person,
    finish_keypoints,
    paint_occluder,
    pose,
    shade,
    temperature_table,
)
from reid_core.datasets.synthetic.style import (
    Camera,
    Identity,
    Outfit,
    domain_style,
    make_camera,
    make_identity,
    make_outfit,
    rng_for,
)

MODALITY_CODES = {"visible": 0, "infrared": 1}
_IDENTITY, _OUTFIT, _CAMERA, _IMAGE, _BACKGROUND, _NOISE = 1, 2, 3, 4, 5, 6


class SyntheticWorld:
    """A deterministic population of synthetic persons seen by a set of cameras.

    Args:
        num_ids: number of persons (pids 0..num_ids-1).
        seed: the world seed; persons, outfits, cameras and images all derive from it.
        outfits_per_id: outfits per person (clothes ids ``pid * outfits_per_id + outfit``).
        num_cameras: number of cameras (None: the domain's default).
        domain: ``"a"`` or ``"b"``: the style (palette, backgrounds, lighting, camera set). Different
            domains have different persons for the same pid, as two real data sets do.
    """

    def __init__(
        self,
        num_ids: int = 100,
        seed: int = 0,
        outfits_per_id: int = 1,
        num_cameras: int | None = None,
        domain: str = "a",
    ) -> None:
        if num_ids < 1:
            raise ValueError(f"SyntheticWorld: num_ids must be >= 1, got {num_ids}")
        if outfits_per_id < 1:
            raise ValueError(f"SyntheticWorld: outfits_per_id must be >= 1, got {outfits_per_id}")
        self.style = domain_style(domain)
        self.num_ids = int(num_ids)
        self.seed = int(seed)
        self.outfits_per_id = int(outfits_per_id)
        self.num_cameras = int(num_cameras if num_cameras is not None else self.style.cameras)
        if self.num_cameras < 1:
            raise ValueError(f"SyntheticWorld: num_cameras must be >= 1, got {num_cameras}")
        self.domain = domain
        self._identities: dict[int, Identity] = {}
        self._outfits: dict[tuple[int, int], Outfit] = {}
        self._cameras: dict[int, Camera] = {}
        self._banks: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._noise: dict[tuple[int, int], np.ndarray] = {}

    def __repr__(self) -> str:
        return (
            f"SyntheticWorld(num_ids={self.num_ids}, seed={self.seed}, outfits_per_id={self.outfits_per_id}, "
            f"num_cameras={self.num_cameras}, domain={self.domain!r})"
        )

    def _key(self, *parts: int) -> np.random.Generator:
        return rng_for(self.seed, self.style.code, *parts)

    def identity(self, pid: int) -> Identity:
        """The body of person ``pid`` (cached)."""
        if pid not in self._identities:
            self._identities[pid] = make_identity(self._key(_IDENTITY, pid))
        return self._identities[pid]

    def outfit(self, pid: int, outfit: int) -> Outfit:
        """Outfit ``outfit`` of person ``pid`` (cached)."""
        key = (pid, outfit)
        if key not in self._outfits:
            self._outfits[key] = make_outfit(self._key(_OUTFIT, pid, outfit), self.style)
        return self._outfits[key]

    def camera(self, camid: int) -> Camera:
        """Camera ``camid`` (cached)."""
        if camid not in self._cameras:
            self._cameras[camid] = make_camera(self._key(_CAMERA, camid), self.style)
        return self._cameras[camid]

    def clothes_id(self, pid: int, outfit: int) -> int:
        """A world-wide clothes id for (pid, outfit)."""
        return pid * self.outfits_per_id + outfit

    def _background(self, camid: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
        """The camera's background texture (RGB and infrared), larger than the image so crops vary."""
        key = (camid, h, w)
        if key not in self._banks:
            self._banks[key] = _make_background(self.camera(camid), self._key(_BACKGROUND, camid, h, w), h, w)
        return self._banks[key]

    def _noise_bank(self, h: int, w: int) -> np.ndarray:
        if (h, w) not in self._noise:
            rng = self._key(_NOISE, h, w)
            u = rng.random((h + 16, w + 16, 3), dtype=np.float32) + rng.random((h + 16, w + 16, 3), dtype=np.float32)
            self._noise[(h, w)] = (u - np.float32(1.0)) * np.float32(2.449)  # unit variance triangle noise
        return self._noise[(h, w)]

    def _check(self, pid: int, outfit: int, camid: int, modality: str, size: tuple[int, int]) -> None:
        if not 0 <= pid < self.num_ids:
            raise ValueError(f"SyntheticWorld.render: pid {pid} outside 0..{self.num_ids - 1}")
        if not 0 <= outfit < self.outfits_per_id:
            raise ValueError(f"SyntheticWorld.render: outfit {outfit} outside 0..{self.outfits_per_id - 1}")
        if not 0 <= camid < self.num_cameras:
            raise ValueError(f"SyntheticWorld.render: camid {camid} outside 0..{self.num_cameras - 1}")
        if modality not in MODALITY_CODES:
            raise ValueError(f"SyntheticWorld.render: modality must be 'visible' or 'infrared', got {modality!r}")
        if len(size) != 2 or size[0] < 8 or size[1] < 4:
            raise ValueError(f"SyntheticWorld.render: size is (height, width) >= (8, 4), got {size!r}")

    def render_array(
        self,
        pid: int,
        outfit: int = 0,
        camid: int = 0,
        modality: str = "visible",
        index: int = 0,
        size: tuple[int, int] = (128, 64),
    ) -> tuple[np.ndarray, Keypoints]:
        """Like ``render`` but returns the uint8 array (H, W, 3): the fast path for benchmarks."""
        self._check(pid, outfit, camid, modality, size)
        h, w = int(size[0]), int(size[1])
        ident, clothes, cam = self.identity(pid), self.outfit(pid, outfit), self.camera(camid)
        mcode = MODALITY_CODES[modality]
        u = self._key(_IMAGE, pid, outfit, camid, mcode, index, h, w).random(NUM_UNIFORMS).tolist()
        c = Canvas(h, w)
        g, kp = pose(ident, cam, u, h, w)
        draw_person(c, ident, clothes, g, kp)
        apply_pattern(c, clothes, g)
        occluded = paint_occluder(c, cam, u)
        keypoints = finish_keypoints(c, kp, occluded)
        bg, bg_ir = self._background(camid, h, w)
        oy = int(u[9] * (bg.shape[0] - h))
        ox = int(u[8] * (bg.shape[1] - w))
        ny, nx = int(u[10] * 16), int(u[11] * 16)
        mask = c.lab > 0
        labels = c.lab[mask]
        noise = self._noise_bank(h, w)[ny : ny + h, nx : nx + w]
        jitter = np.float32(1.0 + cam.gain_jitter * (2 * u[6] - 1))
        if mcode == 0:
            img = bg[oy : oy + h, ox : ox + w].copy()
            img[mask] = colour_palette(ident, clothes, cam)[labels]
            arr = shade(img, cam.light * jitter, 0.3 * (u[7] - 0.5), cam.blur, noise, cam.noise)
        else:
            img = bg_ir[oy : oy + h, ox : ox + w].copy()
            img[mask] = temperature_table(ident, clothes, cam)[labels]
            arr = shade(img, jitter, 0.2 * (u[7] - 0.5), cam.blur, noise[:, :, 0], cam.noise * 0.8)
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        return arr, keypoints

    def render(
        self,
        pid: int,
        outfit: int = 0,
        camid: int = 0,
        modality: str = "visible",
        index: int = 0,
        size: tuple[int, int] = (128, 64),
    ) -> tuple[Image.Image, Keypoints]:
        """Draw image ``index`` of person ``pid`` in outfit ``outfit`` seen by camera ``camid``.

        Returns the RGB image (``size`` is (height, width)) and the 17 COCO keypoints
        ``((x, y, visibility), ...)`` in pixels (visibility 0 outside, 1 hidden, 2 visible).
        Infrared images are grey (R == G == B).
        """
        arr, keypoints = self.render_array(pid, outfit, camid, modality, index, size)
        return Image.fromarray(arr, "RGB"), keypoints


def _make_background(cam: Camera, rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """A textured scene (wall above the horizon, floor below) in RGB and its infrared version."""
    bh, bw = h + h // 4, w + w // 2
    ys = (np.arange(bh, dtype=np.float32) + 0.5)[:, None] / np.float32(h)
    xs = (np.arange(bw, dtype=np.float32) + 0.5)[None, :] / np.float32(h)
    ys, xs = np.broadcast_arrays(ys, xs)
    floor = ys >= np.float32(cam.horizon)
    img = np.where(floor[..., None], cam.floor.astype(np.float32), cam.wall.astype(np.float32))
    img = np.ascontiguousarray(np.broadcast_to(img, (bh, bw, 3))).astype(np.float32)
    p = np.float32(cam.period)
    if cam.texture == 0:  # tiles on the floor, plain wall with a dado line
        gy = (ys / (p * 0.5)) % 1 < 0.12
        gx = (xs / p) % 1 < 0.08
        img[(gy | gx) & floor] *= np.float32(0.8)
        img[(np.abs(ys - np.float32(cam.horizon - 0.06)) < 0.01) & ~floor] *= np.float32(0.7)
    elif cam.texture == 1:  # windows on the wall
        win = ((xs / p) % 1 < 0.55) & ((ys / (p * 1.3)) % 1 < 0.6) & ~floor
        img[win] = img[win] * np.float32(0.55) + np.float32(0.45 * 200)
    else:  # soft blobs: bushes, parked things
        for _ in range(4):
            cx, cy = rng.uniform(0, bw / h), rng.uniform(0, bh / h)
            r = rng.uniform(0.1, 0.3)
            col = rng.uniform(30, 200, 3).astype(np.float32)
            q = np.clip(1 - ((xs - cx) ** 2 + (ys - cy) ** 2) / np.float32(r * r), 0, 1)
            q = (q * q)[..., None]
            img = img * (1 - q) + col * q
    img += (rng.random((bh, bw, 1), dtype=np.float32) - np.float32(0.5)) * np.float32(18.0)
    img = np.clip(img, 0, 255).astype(np.float32)
    # elementwise (no BLAS, no reductions) so that the result is the same on every CPU
    lum = img[..., 0] * np.float32(0.299) + img[..., 1] * np.float32(0.587) + img[..., 2] * np.float32(0.114)
    ir = np.float32(cam.bg_temp * 255) + (lum - np.float32(128.0)) * np.float32(0.35)
    return img, ir.astype(np.float32)
