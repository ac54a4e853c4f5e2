"""Shared helpers of the public data set parsers: finding the data set's folder, listing images,
parsing basenames with clear errors, relabelling, list files and sanity checks.

Every parser resolves ``--root`` the same way (see :func:`find_dataset_dir`) and parses file
*basenames* (or path parts below the data set's folder), never the full path, so that a root such
as ``/data/run_2/x1`` cannot change a pid or a camera.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError
from reid_core.progress import track

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def _expected(layout: str) -> str:
    return f"Expected layout:\n{layout.rstrip()}"


def find_dataset_dir(
    root: str | os.PathLike[str] | None,
    *,
    dataset: str,
    folders: Sequence[str],
    markers: Sequence[str],
    layout: str,
    aliases: Sequence[str] = (),
) -> Path:
    """The data set's own folder, found from ``--root``.

    Accepted, in this order: ``ROOT/<folder>`` (``--root`` is the parent folder), ``ROOT`` itself
    when it holds the markers (``--root`` is the data set's folder), and
    ``ROOT/<alias>/<folder>`` (torchreid's extra lower-case folder, e.g. ``market1501``).

    Args:
        root: the user's ``--root``.
        dataset: the registered name, used in messages and as a torchreid alias.
        folders: the data set's own folder names (the first is the official one).
        markers: relative paths that must exist inside the data set's folder.
        layout: the expected tree, shown when nothing is found.
        aliases: other intermediate folder names to accept (torchreid's names).
    """
    if root is None or str(root) == "":
        raise DatasetError(
            f"data set {dataset!r} needs --root: the folder that holds {folders[0]}/. {_expected(layout)}"
        )
    base = Path(root).expanduser()
    if not base.is_dir():
        raise DatasetError(
            f"data set {dataset!r}: root {str(base)!r} does not exist or is not a folder. "
            f"Point --root at the folder that holds {folders[0]}/. {_expected(layout)}"
        )

    def holds_markers(path: Path) -> bool:
        return all((path / m).exists() for m in markers)

    candidates = [base / f for f in folders]
    if base.is_dir():  # the same names in another case (market-1501-v15.09.15)
        lower = {f.lower() for f in folders if "/" not in f}
        candidates.extend(
            c for c in sorted(base.iterdir()) if c.name.lower() in lower and c.name not in folders
        )
    candidates.append(base)
    for alias in dict.fromkeys([dataset, dataset.lower(), *aliases]):
        candidates.extend(base / alias / f for f in folders)
    for cand in candidates:
        if cand.is_dir() and holds_markers(cand):
            return Path(os.path.abspath(cand))
    # Report the most useful partial match: a folder with the right name but missing markers.
    names = {f.split("/")[-1].lower() for f in folders}
    partial = next((c for c in candidates if c.is_dir() and c.name.lower() in names), None)
    where = partial if partial is not None else base
    missing = [m for m in markers if not (where / m).exists()]
    raise DatasetError(
        f"data set {dataset!r}: cannot find {folders[0]}/ under root {str(base)!r} "
        f"(looked in {', '.join(str(c) for c in candidates[:3])}, ...); "
        f"{str(where)!r} lacks {', '.join(missing)}. {_expected(layout)}"
    )


def require_dir(path: Path, what: str, layout: str) -> Path:
    """``path`` if it is a folder, else a DatasetError naming it and the expected layout."""
    if not path.is_dir():
        raise DatasetError(f"missing {what} folder {str(path)!r}. {_expected(layout)}")
    return path


def list_images(
    folder: Path, *, recursive: bool = False, exts: Sequence[str] = IMAGE_EXTENSIONS
) -> list[Path]:
    """Image files in ``folder`` (sorted; other files such as ``Thumbs.db`` are ignored)."""
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.suffix.lower() in exts and p.is_file())


def read_split(
    base: Path,
    sub: str,
    split: str,
    layout: str,
    dataset: str,
    make: Callable[[Path, str], Sample | None],
    *,
    recursive: bool = False,
    what: str = "",
) -> list[Sample]:
    """The samples of the split folder ``base/sub``: ``make(path, relpath)`` for each image (None skips it).

    Errors name the missing folder (``what``, default ``"<split> split"``, with ``layout``) or the empty split.
    """
    folder = require_dir(base / sub, what or f"{split} split", layout)
    paths = list_images(folder, recursive=recursive)
    made = (make(path, relpath(path, base)) for path in track(paths, desc=f"scan {dataset} {split}", unit="img"))
    samples = [s for s in made if s is not None]
    require_nonempty(samples, split, folder, dataset)
    return samples


def parse_basename(path: Path | str, regex: re.Pattern[str], pattern: str, dataset: str) -> re.Match[str]:
    """Match ``regex`` against the file's basename, or raise an error naming the file and pattern."""
    name = os.path.basename(path)
    match = regex.match(name)
    if match is None:
        raise DatasetError(
            f"{dataset}: cannot parse file name {name!r} ({str(path)!r}); expected {pattern}. "
            "Remove or rename files that do not follow the data set's naming."
        )
    return match


def relpath(path: Path, base: Path) -> str:
    """``path`` relative to the data set's folder, with forward slashes."""
    return path.relative_to(base).as_posix()


def relabel(samples: list[Sample], *, clothes: bool = True) -> list[Sample]:
    """Train pids (and clothes ids) relabelled to 0..N-1 in sorted order of the raw values."""
    pid_map = {p: i for i, p in enumerate(sorted({s.pid for s in samples}))}
    clo_map = {
        c: i for i, c in enumerate(sorted({s.clothes_id for s in samples if s.clothes_id is not None}))
    }
    out = []
    for s in samples:
        changes: dict[str, object] = {"pid": pid_map[s.pid]}
        if clothes and s.clothes_id is not None:
            changes["clothes_id"] = clo_map[s.clothes_id]
        out.append(attrs.evolve(s, **changes))
    return out


def label_keys(keys: Iterable[str]) -> dict[str, int]:
    """A key (e.g. clothes ``"001_1"``) -> 0..N-1 map in sorted key order."""
    return {k: i for i, k in enumerate(sorted(set(keys)))}


def read_list_file(path: Path, dataset: str, *, min_fields: int = 1) -> list[tuple[int, list[str]]]:
    """Non-empty lines of a list file as ``(line_number, whitespace-split fields)``."""
    if not path.is_file():
        raise DatasetError(f"{dataset}: missing list file {str(path)!r}")
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < min_fields:
            raise DatasetError(
                f"{dataset}: {path.name} line {number} has {len(fields)} field(s), expected {min_fields} "
                f"(`<relative path> <label>`): {line!r}"
            )
        rows.append((number, fields))
    return rows


def inside(base: Path | str, listed: str) -> str | None:
    """``base/listed`` as a normalised absolute path, or None when ``..`` parts lead outside ``base``.

    Symbolic links are not resolved: an image folder linked from another disk is inside. Works on
    strings, since list files hold up to 126,000 lines (MSMT17).
    """
    base_abs = os.path.abspath(base)
    target = os.path.normpath(os.path.join(base_abs, listed))
    if not target.startswith(base_abs.rstrip(os.sep) + os.sep):
        return None
    return target


def resolve_listed(base: Path, listed: str, list_file: Path, line: int, dataset: str) -> tuple[str, str]:
    """``(absolute path, path relative to base)`` of the file a list-file line names.

    The file must lie inside ``base`` (the data set's folder) and exist.
    """
    target = inside(base, listed)
    if target is None:
        raise DatasetError(
            f"{dataset}: {list_file.name} line {line} points outside the data set folder {str(base)!r}: "
            f"{listed!r}. List files must hold paths relative to that folder."
        )
    if not os.path.isfile(target):
        raise DatasetError(
            f"{dataset}: {list_file.name} line {line} names a missing file {target!r}; "
            "is the copy of the data set complete?"
        )
    rel = target[len(os.path.abspath(base).rstrip(os.sep)) + 1 :].replace(os.sep, "/")
    return target, rel


def require_nonempty(samples: Sequence[Sample], split: str, where: Path | str, dataset: str) -> None:
    """An error naming the split and folder when a split has no images."""
    if not samples:
        raise DatasetError(
            f"{dataset}: split {split!r} is empty (no images found in {str(where)!r}). "
            "Check that the images were extracted there."
        )


def _market_valid(q: Sample, gallery_by_pid: Mapping[int, set[int]]) -> bool:
    return bool(gallery_by_pid.get(q.pid, set()) - {q.camid})


def _any_same_pid(q: Sample, gallery_by_pid: Mapping[int, set[int]]) -> bool:
    return q.pid in gallery_by_pid


RULES: dict[str, Callable[[Sample, Mapping[int, set[int]]], bool]] = {
    "cross-camera": _market_valid,
    "same-pid": _any_same_pid,
}


def require_valid_queries(
    query: Sequence[Sample], gallery: Sequence[Sample], dataset: str, *, rule: str = "cross-camera"
) -> None:
    """An error when no query has a valid match in the gallery.

    ``cross-camera``: a gallery image of the same pid from another camera (the market rule).
    ``same-pid``: any gallery image of the same pid (no same-camera filtering).
    """
    by_pid: dict[int, set[int]] = {}
    for g in gallery:
        by_pid.setdefault(g.pid, set()).add(g.camid)
    check = RULES[rule]
    if not any(check(q, by_pid) for q in query):
        cams = sorted({s.camid for s in [*query, *gallery]})
        raise DatasetError(
            f"{dataset}: no query image has a valid match in the gallery "
            f"({len(query)} queries, {len(gallery)} gallery images, cameras {cams}). "
            + (
                "Under the evaluation rule a match must share the pid and come from another camera: "
                "are all images from one camera, or are query and gallery identities disjoint?"
                if rule == "cross-camera"
                else "Query and gallery share no identity."
            )
        )


def check_options(dataset: str, options: Mapping[str, str], allowed: Mapping[str, str]) -> None:
    """An error naming unknown options and the valid ones (``allowed``: name -> help)."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        valid = "; ".join(f"{k}: {v}" for k, v in allowed.items()) or "(none)"
        raise DatasetError(
            f"data set {dataset!r} has no option {', '.join(map(repr, unknown))}. Options: {valid}"
        )


def choice_option(
    dataset: str, options: Mapping[str, str], key: str, choices: Sequence[str], default: str
) -> str:
    """A string option restricted to ``choices``."""
    value = str(options.get(key, default)).strip().lower()
    if value not in choices:
        raise DatasetError(
            f"data set {dataset!r}: option {key}={value!r} is not one of {', '.join(choices)} "
            f"(e.g. --option {key}={choices[0]})"
        )
    return value


def int_option(dataset: str, options: Mapping[str, str], key: str, default: int, lo: int, hi: int) -> int:
    """An integer option in ``lo..hi``."""
    raw = options.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = lo - 1
    if not lo <= value <= hi:
        raise DatasetError(f"data set {dataset!r}: option {key}={raw!r} must be an integer in {lo}..{hi}")
    return value


def bool_option(dataset: str, options: Mapping[str, str], key: str, default: bool = False) -> bool:
    """A boolean option (true/false/1/0/yes/no)."""
    raw = str(options.get(key, default)).strip().lower()
    if raw in ("true", "1", "yes", "on"):
        return True
    if raw in ("false", "0", "no", "off"):
        return False
    raise DatasetError(f"data set {dataset!r}: option {key}={raw!r} must be true or false")
