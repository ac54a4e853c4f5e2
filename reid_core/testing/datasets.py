"""Tiny synthetic data sets of each kind, for plugin tests: seconds to build, cached on disk.

Each kind is one of the core's synthetic presets with small options (a few identities, 3 cameras,
32 x 16 images), so a method's smoke test trains on the same kind of data as ``reid run`` does:

| kind | preset | what it has |
| --- | --- | --- |
| ``market`` | ``synthetic`` | Market-like: disjoint train/test ids, several cameras, ``market`` protocol |
| ``cloth-changing`` | ``synthetic-cc`` | clothes ids (2 outfits), ``cloth-changing``/``standard``/``same-clothes`` |
| ``infrared`` | ``synthetic-ir`` | visible and infrared cameras, ``modality``, RegDB-style protocols both ways |
| ``two-domains`` | ``synthetic-a`` | train on domain ``a``, test on domain ``b`` (``Sample.domain``) |
| ``keypoints`` | ``synthetic`` | Market-like, every sample with its 17 COCO keypoints (checked) |

Every synthetic sample carries keypoints; the ``keypoints`` kind only guarantees it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: kind -> (registered preset, its tiny options)
KINDS: dict[str, tuple[str, dict[str, str]]] = {
    "market": ("synthetic", {}),
    "cloth-changing": ("synthetic-cc", {"outfits": "2"}),
    "infrared": ("synthetic-ir", {"ir_cameras": "2"}),
    "two-domains": ("synthetic-a", {"test_domain": "b"}),
    "keypoints": ("synthetic", {}),
}
#: Options every tiny data set shares: 4 training and 3 test identities, 3 cameras, 32 x 16 pixels.
TINY_OPTIONS: dict[str, str] = {"ids": "4", "test_ids": "3", "images": "2", "cameras": "3", "height": "32",
                                "width": "16", "seed": "0"}


def default_cache_dir() -> Path:
    """``$REID_CACHE_DIR/testing`` or ``~/.cache/reid/testing``: shared by test sessions (the images are
    keyed by their options, so a cache is reused only for identical data)."""
    base = os.environ.get("REID_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "reid") / "testing"


def tiny_options(kind: str, cache_dir: str | Path | None = None, **overrides: Any) -> tuple[str, dict[str, str]]:
    """``(preset, options)`` of a tiny data set of ``kind`` (what ``--dataset``/``--option`` would say).

    ``overrides`` replace options (``ids=6``); an unknown kind is a ``ValueError`` naming the kinds.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown tiny data set kind {kind!r}; kinds: {', '.join(KINDS)}")
    preset, extra = KINDS[kind]
    options = {**TINY_OPTIONS, **extra, **{k: str(v) for k, v in overrides.items()}}
    options["cache_dir"] = str(cache_dir if cache_dir is not None else default_cache_dir())
    return preset, options


def tiny_dataset(kind: str = "market", cache_dir: str | Path | None = None, **overrides: Any) -> Any:
    """A tiny :class:`~reid_core.datasets.base.ReidDataset` of ``kind`` (see the module table).

    Example::

        ds = tiny_dataset("cloth-changing")
        assert all(s.clothes_id is not None for s in ds.train)
    """
    from reid_core.plugins import get_registry

    preset, options = tiny_options(kind, cache_dir, **overrides)
    dataset = get_registry("datasets").create(preset, None, **options)
    if kind == "keypoints":
        missing = [s.path for s in dataset.train + dataset.query + dataset.gallery if not s.keypoints]
        if missing:
            raise AssertionError(f"tiny keypoints data set: {len(missing)} samples without keypoints, e.g. {missing[0]}")
    return dataset


def check_dataset(dataset: Any, *, kind: str | None = None) -> list[str]:
    """Problems with a data set object (empty when it is sound): splits present and non-empty, train
    pids relabelled to ``0..N-1``, at least one evaluation whose splits exist, kind-specific fields."""
    problems: list[str] = []
    for split in ("train", "query", "gallery"):
        if not getattr(dataset, split, None):
            problems.append(f"split {split!r} is empty")
    pids = sorted({s.pid for s in getattr(dataset, "train", [])})
    if pids and pids != list(range(len(pids))):
        problems.append(f"train pids are not relabelled to 0..{len(pids) - 1} (got {pids[:5]}...)")
    evaluations = list(getattr(dataset, "evaluations", []))
    if not evaluations:
        problems.append("no evaluation (EvalSpec) declared")
    for spec in evaluations:
        for split in (spec.query, spec.gallery):
            try:
                dataset.split(split)
            except Exception as exc:
                problems.append(f"evaluation {spec.key!r}: split {split!r} is missing ({exc})")
    samples = [*getattr(dataset, "train", []), *getattr(dataset, "query", []), *getattr(dataset, "gallery", [])]
    needs: Mapping[str, str] = {"cloth-changing": "clothes_id", "infrared": "modality", "two-domains": "domain",
                                "keypoints": "keypoints"}
    field = needs.get(kind or "")
    if field and any(getattr(s, field) is None for s in samples):
        problems.append(f"a {kind} data set needs Sample.{field} on every sample")
    return problems


__all__ = ["KINDS", "TINY_OPTIONS", "check_dataset", "default_cache_dir", "tiny_dataset", "tiny_options"]
