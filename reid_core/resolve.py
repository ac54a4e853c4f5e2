"""Turn ``reid run`` arguments into a method class and a validated run config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reid_core import config as cfg
from reid_core.methods.base import Method
from reid_core.plugins import get_plugin_manager
from reid_core.registry import suggest

#: Data sets that are generated, not read: ``reid run METHOD`` on them is a demo (quick profile).
GENERATED_PREFIX = "synthetic"


def method_class(name: str) -> type[Method]:
    """The registered method class called ``name`` (the error lists the choices)."""
    return get_plugin_manager().lookup("methods", name).factory


def default_profile(method: type[Method], dataset: str | None) -> str | None:
    """``quick`` for the generated demo data, ``paper`` for a real data set (when defined)."""
    wanted = "quick" if dataset is None or dataset.startswith(GENERATED_PREFIX) else "paper"
    return wanted if wanted in method.profiles else None


def resolve_run_config(
    method: type[Method],
    *,
    dataset: str | None = None,
    root: str | None = None,
    profile: str | None = None,
    config_file: str | None = None,
    sets: Sequence[str] = (),
    options: Mapping[str, str] | None = None,
    device: str | None = None,
    seed: int | None = None,
    source: str | None = None,
    source_root: str | None = None,
    source_options: Mapping[str, str] | None = None,
) -> Any:
    """Defaults < profile < TOML file < ``--set`` < explicit flags, validated into the run config."""
    cls = cfg.run_config_class(method.name, method.config_class)
    if profile is None:
        profile = default_profile(method, dataset)
    elif profile not in method.profiles:
        raise cfg.ConfigError(
            f"method {method.name!r} has no profile {profile!r}.{suggest(profile, list(method.profiles))} "
            f"Profiles: {', '.join(method.profiles) or '(none)'}."
        )
    demo: dict[str, Any] = {"dataset": method.default_dataset}
    if method.default_source and dataset is None:
        demo["source"] = method.default_source
    layers: list[Mapping[str, Any]] = [{"data": demo}]
    if profile is not None:
        layers.append(method.profiles[profile])
    layers.extend(
        user_layers(dataset=dataset, root=root, config_file=config_file, sets=sets, options=options,
                    device=device, seed=seed, source=source, source_root=source_root,
                    source_options=source_options)
    )
    try:
        config = cfg.resolve(cls, *layers)
    except cfg.ConfigError as exc:
        source = f" (from {config_file})" if config_file else ""
        raise cfg.ConfigError(f"{exc}{source}") from None
    get_plugin_manager().lookup("datasets", config.data.dataset)  # unknown data set: error with suggestion
    if config.data.source:
        get_plugin_manager().lookup("datasets", config.data.source)
    return config


def user_layers(
    *,
    dataset: str | None = None,
    root: str | None = None,
    config_file: str | None = None,
    sets: Sequence[str] = (),
    options: Mapping[str, str] | None = None,
    device: str | None = None,
    seed: int | None = None,
    source: str | None = None,
    source_root: str | None = None,
    source_options: Mapping[str, str] | None = None,
    **_ignored: Any,
) -> list[dict[str, Any]]:
    """The override layers the user typed (``--config`` file, ``--set``, flags), lowest first.

    ``--resume`` compares only these with the saved run: a default or a profile value that differs
    from the saved config is not something the user asked to change.
    """
    layers: list[dict[str, Any]] = []
    if config_file:
        layers.append(cfg.load_toml(config_file))
    if sets:
        layers.append(cfg.parse_set(list(sets)))
    flags: dict[str, Any] = {}
    if dataset is not None:
        flags.setdefault("data", {})["dataset"] = dataset
    if root is not None:
        flags.setdefault("data", {})["root"] = root
    if options:
        flags.setdefault("data", {})["options"] = dict(options)
    if source is not None:
        flags.setdefault("data", {})["source"] = source
    if source_root is not None:
        flags.setdefault("data", {})["source_root"] = source_root
    if source_options:
        flags.setdefault("data", {})["source_options"] = dict(source_options)
    if device is not None:
        flags.setdefault("train", {})["device"] = device
    if seed is not None:
        flags.setdefault("train", {})["seed"] = seed
    if flags:
        layers.append(flags)
    return layers


def parse_options(items: Sequence[str]) -> dict[str, str]:
    """``key=value`` strings of ``--option`` into a dict."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise cfg.ConfigError(f"--option expects key=value (e.g. variant=detected), got {item!r}")
        out[key.strip()] = value.strip()
    return out
