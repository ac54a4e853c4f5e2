"""The on-disk cache of generated images: PNG files plus a manifest written atomically last.

A cache directory is keyed by a hash of everything that decides its images (preset, counts, size,
seed, domains, generator version). It is valid only when its manifest exists, names the same key,
and every listed file exists with the recorded size and CRC-32; anything else (an interrupted
build, a deleted or damaged file, a corrupted manifest) is detected and the cache is rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from PIL import Image

from reid_core.progress import track

log = logging.getLogger(__name__)

#: Bump when the drawing changes, so that old caches are not reused.
GENERATOR_VERSION = 3
MANIFEST = "manifest.json"


@attrs.frozen
class ImageJob:
    """One image to generate: where it goes and what to render."""

    relpath: str
    domain: str
    pid: int
    outfit: int
    camid: int
    modality: str
    index: int


def cache_key(params: dict[str, Any]) -> str:
    """A short stable hash of the cache parameters (JSON with sorted keys)."""
    text = json.dumps({"version": GENERATOR_VERSION, **params}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def default_cache_base() -> Path:
    """``$REID_CACHE_DIR/synthetic`` if set, else ``~/.cache/reid/synthetic``."""
    env = os.environ.get("REID_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "synthetic"
    return Path.home() / ".cache" / "reid" / "synthetic"


def encode_png(arr: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 array (fast compression level; PNG is lossless anyway)."""
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; cached images are shared data
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_cache(folder: Path, key: str) -> dict[str, Any] | None:
    """The manifest of a valid cache, or None (logging why) when it must be (re)built."""
    mpath = folder / MANIFEST
    if not mpath.is_file():
        if folder.exists():
            log.warning("synthetic cache %s has no manifest (interrupted build?): rebuilding", folder)
        return None
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        files = manifest["files"]
        if manifest.get("key") != key:
            log.warning("synthetic cache %s belongs to other options: rebuilding", folder)
            return None
    except (ValueError, KeyError, TypeError):
        log.warning("synthetic cache manifest %s is corrupted: rebuilding", mpath)
        return None
    for rel, entry in files.items():
        path = folder / rel
        try:
            data = path.read_bytes()
        except OSError:
            log.warning("synthetic cache file %s is missing: rebuilding", path)
            return None
        if len(data) != entry["size"] or zlib.crc32(data) != entry["crc32"]:
            log.warning("synthetic cache file %s has the wrong size or checksum: rebuilding", path)
            return None
    return manifest


def build_cache(
    folder: Path,
    key: str,
    params: dict[str, Any],
    jobs: Sequence[ImageJob],
    render: Callable[[ImageJob], tuple[np.ndarray, Any]],
) -> dict[str, Any]:
    """Render and write every job's PNG, then the manifest (atomically, last); returns the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    mpath = folder / MANIFEST
    if mpath.exists():
        mpath.unlink()  # an invalid manifest must not survive a partial rebuild
    files: dict[str, Any] = {}
    log.info("generating %d synthetic images in %s", len(jobs), folder)
    for job in track(jobs, desc="rendering synthetic images", unit="img"):
        arr, keypoints = render(job)
        data = encode_png(arr)
        atomic_write(folder / job.relpath, data)
        files[job.relpath] = {"size": len(data), "crc32": zlib.crc32(data), "keypoints": keypoints}
    manifest = {"key": key, "params": params, "version": GENERATOR_VERSION, "files": files}
    atomic_write(mpath, json.dumps(manifest, separators=(",", ":")).encode("utf-8"))
    return manifest


def ensure_cache(
    folder: Path,
    params: dict[str, Any],
    jobs: Sequence[ImageJob],
    render: Callable[[ImageJob], tuple[np.ndarray, Any]],
) -> dict[str, Any]:
    """Return the manifest of ``folder``, building or rebuilding the cache when it is not valid."""
    key = cache_key(params)
    manifest = check_cache(folder, key)
    if manifest is not None and set(manifest["files"]) == {j.relpath for j in jobs}:
        return manifest
    return build_cache(folder, key, params, jobs, render)
