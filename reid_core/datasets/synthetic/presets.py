"""The synthetic presets registered as data sets: synthetic, synthetic-cc, synthetic-ir, synthetic-a/-b.

A preset turns its options into a *plan* (which image of which person, outfit, camera and modality
goes to which split), renders the plan into a cache folder once, and returns a ``ReidDataset``
whose samples point at the cached PNG files.

Options (strings, as every dataset factory receives them):
    ids         training identities (default 100); test identities default to the same number
    test_ids    test identities
    images      images per identity per camera (default 3; 2 for synthetic-cc and synthetic-ir)
    cameras     number of cameras (default: the domain's camera set, 6 for "a", 8 for "b")
    outfits     outfits per identity (synthetic-cc only, default 3)
    ir_cameras  comma-separated infrared camera ids (synthetic-ir only; default every third camera: "2,5" of 6)
    test_domain domain of the query/gallery persons (synthetic-a/-b: train on one, test on the other)
    height, width  image size (default 128 x 64)
    seed        world seed (default 0)
    camera_style  strength (0..1, default 0 = off) of a per-camera colour shift of the whole image:
                the image is mixed with the camera's own tint, so images look alike by camera and
                clusters can split or mix by camera (a dial for camera-aware methods such as ICSR)
    outfit_lock fraction (0..1, default 0 = off; synthetic-cc only) of training identities that wear
                one outfit in all their training images: their clothes then predict identity exactly
                in the training split, while their test images still change clothes (a dial for
                cloth-debiasing methods such as AIM)
    cache_dir   where the generated images are cached (default: ROOT if given, else
                $REID_CACHE_DIR/synthetic or ~/.cache/reid/synthetic), in a sub-folder keyed by the options
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset
from reid_core.datasets.synthetic.cache import ImageJob, cache_key, default_cache_base, ensure_cache
from reid_core.datasets.synthetic.style import DOMAINS, rng_for
from reid_core.datasets.synthetic.world import SyntheticWorld

log = logging.getLogger(__name__)

KINDS = {
    "synthetic": ("market", "a", "Synthetic persons, Market-like (disjoint train/test ids, 6 cameras)"),
    "synthetic-cc": ("cc", "a", "Synthetic persons with several outfits each (LTCC/PRCC-like cloth-changing)"),
    "synthetic-ir": ("ir", "a", "Synthetic persons seen by visible and infrared cameras (SYSU-like)"),
    "synthetic-a": ("market", "a", "Synthetic domain A (bright campus): the source of --source synthetic-a, or test_domain=b"),
    "synthetic-b": ("market", "b", "Synthetic domain B (dim, muted, 8 cameras): target of --source synthetic-a"),
}
COMMON = ("ids", "test_ids", "images", "cameras", "height", "width", "seed", "cache_dir", "domain", "camera_style")
EXTRA = {"market": ("test_domain",), "cc": ("outfits", "outfit_lock"), "ir": ("ir_cameras",)}
#: Seed-tuple tags of the dials (distinct from the world's own tags).
_LOCK_TAG, _TINT_TAG = 79, 80


class SyntheticDataset(ReidDataset):
    """A generated data set; ``name`` is the preset name."""

    name = "synthetic"


def _int(options: dict[str, Any], key: str, default: int, low: int, preset: str) -> int:
    raw = options.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise DatasetError(f"{preset}: option {key}={raw!r} is not an integer") from None
    if value < low:
        raise DatasetError(f"{preset}: option {key}={value} must be >= {low}")
    return value


def _fraction(options: dict[str, Any], key: str, preset: str) -> float:
    raw = options.get(key, 0)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise DatasetError(f"{preset}: option {key}={raw!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise DatasetError(f"{preset}: option {key}={value} must be in [0, 1]")
    return value


def _domain(options: dict[str, Any], key: str, default: str, preset: str) -> str:
    value = str(options.get(key, default))
    if value not in DOMAINS:
        raise DatasetError(f"{preset}: option {key}={value!r} is not a domain; choose one of {', '.join(DOMAINS)}")
    return value


def parse_options(preset: str, options: dict[str, Any]) -> dict[str, Any]:
    """Validate and convert a preset's string options into typed parameters (the cache key's input)."""
    kind, domain, _ = KINDS[preset]
    allowed = COMMON + EXTRA[kind]
    for key in options:
        if key not in allowed:
            raise DatasetError(
                f"{preset}: unknown option {key!r}; valid options: {', '.join(allowed)}"
            )
    domain = _domain(options, "domain", domain, preset)
    ids = _int(options, "ids", 100, 1, preset)
    p: dict[str, Any] = {
        "kind": kind,
        "domain": domain,
        "ids": ids,
        "test_ids": _int(options, "test_ids", ids, 1, preset),
        "images": _int(options, "images", 3 if kind == "market" else 2, 1, preset),
        "cameras": _int(options, "cameras", DOMAINS[domain].cameras, 2, preset),
        "height": _int(options, "height", 128, 16, preset),
        "width": _int(options, "width", 64, 8, preset),
        "seed": _int(options, "seed", 0, 0, preset),
    }
    # the dials enter the parameters (and so the cache key) only when on: default data sets are unchanged
    if style := _fraction(options, "camera_style", preset):
        p["camera_style"] = style
    if kind == "market":
        p["test_domain"] = _domain(options, "test_domain", domain, preset)
    if kind == "cc":
        p["outfits"] = _int(options, "outfits", 3, 2, preset)
        if lock := _fraction(options, "outfit_lock", preset):
            p["outfit_lock"] = lock
    if kind == "ir":
        default = ",".join(str(c) for c in range(p["cameras"]) if c % 3 == 2) or str(p["cameras"] - 1)
        raw = str(options.get("ir_cameras", default))
        try:
            ir = sorted({int(x) for x in raw.split(",") if x.strip()})
        except ValueError:
            raise DatasetError(f"{preset}: option ir_cameras={raw!r} must be comma-separated camera ids") from None
        if not ir or any(c < 0 or c >= p["cameras"] for c in ir) or len(ir) == p["cameras"]:
            raise DatasetError(
                f"{preset}: option ir_cameras={raw!r} must name some (not all) of cameras 0..{p['cameras'] - 1}"
            )
        p["ir_cameras"] = ir
    return p


def _worlds(p: dict[str, Any]) -> dict[str, SyntheticWorld]:
    """One world per domain used; test persons follow the training persons in pid order."""
    n = p["ids"] + p["test_ids"]
    outfits = p.get("outfits", 1)
    worlds = {p["domain"]: SyntheticWorld(n, p["seed"], outfits, p["cameras"], p["domain"])}
    test_domain = p.get("test_domain", p["domain"])
    if test_domain not in worlds:
        worlds[test_domain] = SyntheticWorld(n, p["seed"], outfits, p["cameras"], test_domain)
    return worlds


def _camera_subset(p: dict[str, Any], domain: str, pid: int) -> list[int]:
    """Market-like: each person passes half to all of the C cameras (at least 2)."""
    cams = p["cameras"]
    if p["kind"] != "market":
        return list(range(cams))
    rng = rng_for(p["seed"], DOMAINS[domain].code, 77, pid)
    k = max(2, round(float(cams * rng.uniform(0.5, 1.0))))
    return sorted(int(c) for c in rng.choice(cams, size=k, replace=False))


def outfit_locked(p: dict[str, Any], domain: str, pid: int) -> bool:
    """Whether training identity ``pid`` wears one outfit in all its training images (``outfit_lock``)."""
    lock = float(p.get("outfit_lock", 0.0))
    return lock > 0 and float(rng_for(p["seed"], DOMAINS[domain].code, _LOCK_TAG, pid).random()) < lock


def camera_tints(p: dict[str, Any], domain: str) -> np.ndarray:
    """One RGB tint per camera (``camera_style``): a colour from the full cube, drawn per camera."""
    return np.stack([rng_for(p["seed"], DOMAINS[domain].code, _TINT_TAG, cam).uniform(0, 255, 3)
                     for cam in range(p["cameras"])]).astype(np.float32)


def apply_camera_style(arr: np.ndarray, tint: np.ndarray, strength: float) -> np.ndarray:
    """Mix an image with its camera's tint: ``(1 - s) * image + s * tint`` (uint8, elementwise)."""
    s = np.float32(strength)
    mixed = arr.astype(np.float32) * (np.float32(1.0) - s) + tint * s
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def _person_jobs(p: dict[str, Any], domain: str, pid: int, split: str) -> list[ImageJob]:
    """Every image of one person: cameras x images, with outfit and modality per image."""
    jobs = []
    ir = set(p.get("ir_cameras", ()))
    outfits = p.get("outfits", 1)
    shift = pid % outfits
    locked = split == "train" and outfit_locked(p, domain, pid)
    for cam in _camera_subset(p, domain, pid):
        modality = "infrared" if cam in ir else "visible"
        for k in range(p["images"]):
            outfit = 0 if locked else (cam + k + shift) % outfits
            rel = f"{domain}/{split}/{pid:05d}_c{cam}_o{outfit}_{modality[0]}{k:02d}.png"
            jobs.append(ImageJob(rel, domain, pid, outfit, cam, modality, k))
    return jobs


def make_plan(p: dict[str, Any]) -> dict[str, list[ImageJob]]:
    """Which images go to which split (a pure function of the parameters)."""
    plan: dict[str, list[ImageJob]] = {"train": [], "query": [], "gallery": []}
    for pid in range(p["ids"]):
        plan["train"] += _person_jobs(p, p["domain"], pid, "train")
    test_domain = p.get("test_domain", p["domain"])
    for pid in range(p["ids"], p["ids"] + p["test_ids"]):
        jobs = _person_jobs(p, test_domain, pid, "test")
        if p["kind"] == "ir":
            ir = [j for j in jobs if j.modality == "infrared"]
            vis = [j for j in jobs if j.modality == "visible"]
            plan["query"] += ir
            plan["gallery"] += vis
            plan.setdefault("query_visible", []).extend(vis)
            plan.setdefault("gallery_infrared", []).extend(ir)
            continue
        cams = sorted({j.camid for j in jobs})
        nq = max(1, min(2, len(cams) - 1))
        rng = rng_for(p["seed"], DOMAINS[test_domain].code, 78, pid)
        qcams = {int(c) for c in rng.choice(cams, size=nq, replace=False)}
        for j in jobs:
            if j.camid in qcams and j.index == 0:
                plan["query"].append(j)
            elif j.camid not in qcams or p["images"] > 1:
                plan["gallery"].append(j)
    return plan


def _evaluations(kind: str) -> list[EvalSpec]:
    if kind == "cc":
        return [EvalSpec("cloth-changing"), EvalSpec("standard"), EvalSpec("same-clothes")]
    if kind == "ir":
        return [
            EvalSpec("regdb", query="query", gallery="gallery", name="ir-to-visible"),
            EvalSpec("regdb", query="query_visible", gallery="gallery_infrared", name="visible-to-ir"),
        ]
    return [EvalSpec("market")]


def build_preset(preset: str, root: str | None, options: dict[str, Any]) -> SyntheticDataset:
    """Parse options, generate (or reuse) the cached images and return the data set."""
    p = parse_options(preset, options)
    base = options.get("cache_dir") or root
    folder = (Path(str(base)).expanduser() if base else default_cache_base()) / cache_key(p)
    plan = make_plan(p)
    worlds = _worlds(p)
    size = (p["height"], p["width"])
    unique = {j.relpath: j for jobs in plan.values() for j in jobs}

    style = float(p.get("camera_style", 0.0))
    tints = {domain: camera_tints(p, domain) for domain in worlds} if style else {}

    def render(job: ImageJob) -> tuple[np.ndarray, Any]:
        arr, keypoints = worlds[job.domain].render_array(job.pid, job.outfit, job.camid, job.modality, job.index, size)
        if style and job.modality == "visible":  # infrared images stay grey
            arr = apply_camera_style(arr, tints[job.domain][job.camid], style)
        return arr, keypoints

    try:
        manifest = ensure_cache(folder, p, list(unique.values()), render)
    except OSError as exc:
        raise DatasetError(
            f"{preset}: cannot write the image cache in {folder} ({exc}); set the cache_dir option or "
            f"REID_CACHE_DIR to a writable folder"
        ) from exc
    files = manifest["files"]
    outfits = p.get("outfits")

    def sample(j: ImageJob, train: bool) -> Sample:
        clothes = worlds[j.domain].clothes_id(j.pid, j.outfit) if outfits else None
        if train and clothes is not None:
            clothes = j.pid * outfits + j.outfit  # train pids are 0..ids-1, so this is 0..M-1
        kp = tuple(tuple(float(v) for v in point) for point in files[j.relpath]["keypoints"])
        return Sample(
            path=str(folder / j.relpath), pid=j.pid, camid=j.camid, clothes_id=clothes, modality=j.modality,
            domain=j.domain, keypoints=kp, relpath=j.relpath,
        )

    splits = {name: [sample(j, name == "train") for j in jobs] for name, jobs in plan.items()}
    extra = {k: v for k, v in splits.items() if k not in ("train", "query", "gallery")}
    ds = SyntheticDataset(
        splits["train"], splits["query"], splits["gallery"], extra, evaluations=_evaluations(p["kind"]),
        root=str(folder),
    )
    ds.name = preset
    return ds


def _factory(preset: str) -> Any:
    def factory(root: str | None = None, **options: str) -> SyntheticDataset:
        return build_preset(preset, root, options)

    factory.__name__ = factory.__qualname__ = preset.replace("-", "_")
    factory.__doc__ = f"{KINDS[preset][2]}.\n\n" + (__doc__ or "").split("Options", 1)[-1]
    return factory


def register_presets(register: Any) -> None:
    """Register synthetic, synthetic-cc, synthetic-ir, synthetic-a and synthetic-b."""
    for preset, (_, _, description) in KINDS.items():
        register(preset, _factory(preset), description=description)
