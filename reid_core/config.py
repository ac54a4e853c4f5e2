"""Run configuration: attrs classes, TOML files and ``--set a.b=c`` overrides.

Precedence: class defaults < the method's profile < a TOML file (``--config``) < ``--set``.
Unknown keys are errors that suggest the nearest valid key; values are converted to the field's
type, so ``--set train.seed=3`` gives an int and ``--set data.options.variant=detected`` a str.
"""

from __future__ import annotations

import contextlib
import math
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

import attrs

from reid_core.registry import suggest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(ValueError):
    """A configuration value or key is invalid; the message names the key, the source and the fix."""


# -- the sections every run has ---------------------------------------------------------------
def positive(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value <= 0:
        raise ConfigError(f"{attribute.name} must be > 0, got {value!r}")


def non_negative(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value < 0:
        raise ConfigError(f"{attribute.name} must be >= 0, got {value!r}")


def between(low: float, high: float) -> Any:
    """An attrs validator: ``low <= value <= high``."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if not low <= value <= high:
            raise ConfigError(f"{attribute.name} must be in [{low}, {high}], got {value!r}")

    return check


def increasing_epochs(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """An attrs validator for milestones: non-negative epochs in increasing order."""
    if list(value) != sorted(value) or any(v < 0 for v in value):
        raise ConfigError(f"{attribute.name} must be increasing epochs >= 0, got {list(value)!r}")


def one_of(*choices: str) -> Any:
    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise ConfigError(f"{attribute.name} must be one of {', '.join(map(repr, choices))}, got {value!r}")

    return check


@attrs.frozen
class DataConfig:
    """Which data set, where, and how images are batched."""

    dataset: str = "synthetic"
    root: str = ""  # "" = no root (generated data)
    options: dict[str, str] = attrs.field(factory=dict)
    source: str = ""  # a labelled source data set for cross-domain runs ("" = none)
    source_root: str = ""  # "" = the same as root
    source_options: dict[str, str] = attrs.field(factory=dict)
    height: int = attrs.field(default=256, validator=positive)
    width: int = attrs.field(default=128, validator=positive)
    batch_size: int = attrs.field(default=64, validator=positive)
    num_instances: int = attrs.field(default=4, validator=positive)
    num_workers: int = attrs.field(default=2, validator=non_negative)
    eval_batch_size: int = attrs.field(default=128, validator=positive)


@attrs.frozen
class TrainConfig:
    """How the engine runs: device, precision, evaluation and logging (not the method's recipe)."""

    seed: int = 1
    device: str = attrs.field(default="auto", validator=one_of("auto", "cpu", "cuda"))
    amp: str = attrs.field(default="off", validator=one_of("off", "bf16", "fp16"))
    grad_clip: float = attrs.field(default=0.0, validator=non_negative)  # 0 = off
    accumulate: int = attrs.field(default=1, validator=positive)
    eval_every: int = attrs.field(default=0, validator=non_negative)  # 0 = only at the end
    best_metric: str = "auto"  # "<evaluator>/<metric>", or auto = the dataset's main one
    log_every: int = attrs.field(default=20, validator=positive)
    max_iters: int = attrs.field(default=0, validator=non_negative)  # >0 caps iterations per epoch (smoke runs)
    deterministic: bool = False


# -- type-aware conversion ----------------------------------------------------------------------
def _hints(cls: type) -> dict[str, Any]:
    hints: dict[str, Any] = {f.name: f.type for f in attrs.fields(cls) if f.type is not None}
    module = sys.modules.get(cls.__module__)
    with contextlib.suppress(NameError, TypeError):  # unresolvable annotations: keep the raw ones
        hints.update(typing.get_type_hints(cls, vars(module) if module else None))
    return hints


def _convert(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if isinstance(tp, str):  # an annotation that did not resolve: still convert the builtin scalars
        tp = {"int": int, "float": float, "bool": bool, "str": str}.get(tp.strip(), Any)
        if tp is Any:
            return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: cannot convert {value!r}")
    if attrs.has(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} is a section; set its keys ({key}.<name>=...), not {value!r}")
        return build(tp, value, _prefix=key + ".")
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a table of key = value, got {value!r}")
        vtype = args[1] if len(args) == 2 else Any
        return {str(k): _convert(v, vtype, f"{key}.{k}") for k, v in value.items()}
    if origin in (tuple, list) or tp in (tuple, list):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], key) for v in value)
        if origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"{key} must have {len(args)} items, got {len(value)}")
            return tuple(_convert(v, a, key) for v, a in zip(args, value))
        inner = args[0] if args else Any
        out = [_convert(v, inner, key) for v in value]
        return tuple(out) if (origin is tuple or tp is tuple) else out
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        if isinstance(value, float):
            if value.is_integer():
                return int(value)
            raise ConfigError(f"{key} must be an integer, got {value!r}; write a whole number (e.g. {int(value)})")
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise ConfigError(f"{key} must be an integer, got {value!r}") from None
        if isinstance(value, int):
            return value
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"{key} must be a finite number, got {value!r}; give a value such as 0.1")
        return number
    if tp is str:
        if isinstance(value, (Mapping, list, tuple)):
            raise ConfigError(f"{key} must be a string, got {value!r}")
        return str(value)
    return value


def _key_error(key: str, valid: list[str], prefix: str) -> ConfigError:
    full = prefix + key
    return ConfigError(
        f"unknown config key {full!r}.{suggest(full, [prefix + v for v in valid])} "
        f"Valid keys here: {', '.join(prefix + v for v in valid)}."
    )


def build(cls: type, values: Mapping[str, Any] | None = None, *, _prefix: str = "") -> Any:
    """Create ``cls`` (an attrs class) from a nested mapping, converting and validating each value."""
    values = dict(values or {})
    fields = {f.name: f for f in attrs.fields(cls)}
    hints = _hints(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise _key_error(key, list(fields), _prefix)
        kwargs[key] = _convert(value, hints.get(key, Any), _prefix + key)
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{_prefix}{exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid value in section {_prefix.rstrip('.') or cls.__name__}: {exc}") from None


def to_dict(config: Any) -> dict[str, Any]:
    """A nested plain dict of an attrs config (tuples become lists)."""
    import attr  # ``attrs.asdict`` always keeps tuples; TOML and JSON want lists

    return attr.asdict(config, retain_collection_types=False)


def merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``update`` into a copy of ``base`` (tables merge, other values replace)."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def dotted_to_nested(pairs: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for dotted, value in pairs.items():
        node = out
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{dotted!r}: {part!r} is a value, not a section")
        node[parts[-1]] = value
    return out


def parse_set(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Parse ``key=value`` strings; values are read as TOML literals when they are valid ones."""
    pairs: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set expects key=value (e.g. train.seed=3), got {item!r}")
        raw = raw.strip()
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        pairs[key] = value
    return dotted_to_nested(pairs)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file; a syntax error names the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    return parse_toml_text(path.read_bytes(), str(path))


def parse_toml_text(raw: bytes, source: str) -> dict[str, Any]:
    """Parse TOML bytes; non-UTF-8 text and syntax errors are :class:`ConfigError` naming ``source``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {source!r} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {source!r} is not valid TOML: {exc}; fix that line") from None


# -- TOML output ----------------------------------------------------------------------------------
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {True: "inf", False: "-inf"}[value > 0] if math.isinf(value) else "nan"
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        raise ConfigError("TOML has no null: use an empty string or a sentinel for optional values")
    raise ConfigError(f"cannot write {type(value).__name__} value {value!r} to TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_value(key)


def dumps_toml(config: Any) -> str:
    """Write an attrs config as TOML: each nested attrs section becomes a ``[table]``."""
    lines: list[str] = []

    def emit(obj: Any, path: list[str]) -> None:
        fields = attrs.fields(type(obj))
        scalars = [f for f in fields if not attrs.has(type(getattr(obj, f.name)))]
        sections = [f for f in fields if attrs.has(type(getattr(obj, f.name)))]
        if path:
            lines.append(f"[{'.'.join(path)}]")
        for f in scalars:
            lines.append(f"{_toml_key(f.name)} = {_toml_value(getattr(obj, f.name))}")
        if path:
            lines.append("")
        for f in sections:
            emit(getattr(obj, f.name), [*path, f.name])

    emit(config, [])
    return "\n".join(lines).rstrip() + "\n"


def loads_toml(cls: type, text: str) -> Any:
    """Read TOML text written by :func:`dumps_toml` back into ``cls``."""
    return build(cls, tomllib.loads(text))


def run_config_class(method_name: str, method_config: type) -> type:
    """The attrs class of a whole run: ``data``, ``train`` and the method's own section."""
    section = method_name.replace("-", "_")
    return attrs.make_class(
        "RunConfig",
        {
            "data": attrs.field(factory=DataConfig, type=DataConfig),
            "train": attrs.field(factory=TrainConfig, type=TrainConfig),
            section: attrs.field(factory=method_config, type=method_config),
        },
        frozen=True,
    )


def resolve(
    cls: type,
    *layers: Mapping[str, Any],
) -> Any:
    """Build ``cls`` from its defaults and nested override layers, later layers winning."""
    data: dict[str, Any] = {}
    for layer in layers:
        data = merge(data, layer)
    return build(cls, data)
