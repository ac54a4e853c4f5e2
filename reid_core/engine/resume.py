"""Which config a resumed run continues with, and which typed values it applies or ignores.

A run that finished an epoch continues with its saved ``config.toml``: changing what it learns
halfway would make the result neither the old run nor a new one. Only the values the user typed
are compared (a default or a profile value is not a request), and the keys that change where and
how fast a run goes (:data:`~reid_core.engine.checkpoint.RESUME_SAFE_KEYS`) are applied. A run
that never finished an epoch has nothing to protect: the typed values are applied, so that the
corrected command fixes it in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from reid_core import config as cfg
from reid_core.engine.checkpoint import RESUME_SAFE_KEYS
from reid_core.engine.errors import EngineError


@attrs.frozen
class ResumeConfig:
    """The config to continue with, and the ``key = value`` changes applied to / ignored from it."""

    config: Any
    applied: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


def read_saved_config(config_class: type, folder: Path) -> Any:
    """The run folder's ``config.toml`` as ``config_class``; a damaged file names itself and the fix."""
    path = Path(folder) / "config.toml"
    try:
        return cfg.build(config_class, cfg.parse_toml_text(path.read_bytes(), str(path)))
    except cfg.ConfigError as exc:
        raise EngineError(
            f"--resume: {exc}. The run's config.toml is damaged: restore it (its checkpoint holds a copy "
            "under 'config'), or start a new run with another --output"
        ) from None


def _flat(config: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def walk(values: Mapping[str, Any], prefix: str) -> None:
        for key, value in values.items():
            if isinstance(value, Mapping) and key != "options":
                walk(value, f"{prefix}{key}.")
            else:
                out[f"{prefix}{key}"] = value

    walk(cfg.to_dict(config), "")
    return out


def resume_config(
    saved: Any, given: Any, typed: Sequence[Mapping[str, Any]] | None, *, trained: bool
) -> ResumeConfig:
    """Reconcile a run's saved config with a ``--resume`` command.

    Args:
        saved: the run folder's config.
        given: the config the command resolved (defaults, profile and typed values).
        typed: the layers the user typed (``--config``, ``--set``, flags); ``None`` compares all of ``given``.
        trained: the run finished an epoch (it has a checkpoint).
    """
    wanted = given if typed is None else cfg.resolve(type(saved), cfg.to_dict(saved), *typed)
    before, after = _flat(saved), _flat(wanted)
    changed = [k for k in after if before.get(k) != after[k]]
    show = {k: f"{k} = {after[k]!r} (saved {before.get(k)!r})" for k in changed}
    if not trained:
        return ResumeConfig(wanted, applied=tuple(show[k] for k in changed))
    safe = [k for k in changed if k in RESUME_SAFE_KEYS]
    config = saved
    if safe:
        config = cfg.resolve(type(saved), cfg.to_dict(saved), cfg.dotted_to_nested({k: after[k] for k in safe}))
    return ResumeConfig(
        config,
        applied=tuple(show[k] for k in safe),
        ignored=tuple(show[k] for k in changed if k not in RESUME_SAFE_KEYS),
    )


def reconcile_folder(
    method: str, config: Any, output_dir: Path, *, resume: bool, typed: Sequence[Mapping[str, Any]] | None
) -> tuple[str, ResumeConfig, Path | None]:
    """Check the run folder for ``method`` and choose the config the run goes on with.

    Returns the folder's state (``new``, ``restart`` or ``resume``: see
    :func:`~reid_core.engine.outputs.check_run_folder`), the config with the typed changes applied
    or ignored, and the ``last.pt`` to continue from (``None``: start at the first epoch).
    """
    from reid_core.engine.outputs import RESUME, check_run_folder

    output_dir = Path(output_dir)
    found = check_run_folder(output_dir, method, resume=resume)
    if found != RESUME:
        return found, ResumeConfig(config), None
    last = output_dir / "checkpoints" / "last.pt"
    saved = read_saved_config(type(config), output_dir)
    reconciled = resume_config(saved, config, typed, trained=last.exists())
    return found, reconciled, last if last.exists() else None
