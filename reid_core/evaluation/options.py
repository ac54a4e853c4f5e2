"""Evaluator options: they arrive as Python values (EvalSpec) or strings (CLI ``-o key=value``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reid_core.evaluation.base import EvaluationError, SplitLabels


def check_options(protocol: str, options: Mapping[str, Any], valid: Mapping[str, str]) -> None:
    """Unknown option names are an error that lists the valid ones with their meaning."""
    unknown = sorted(set(options) - set(valid))
    if unknown:
        listing = "; ".join(f"{k}: {v}" for k, v in valid.items()) or "(none)"
        raise EvaluationError(
            f"evaluator {protocol!r} has no option {', '.join(map(repr, unknown))}. Options: {listing}"
        )


def int_option(protocol: str, options: Mapping[str, Any], name: str, default: int, minimum: int = 0) -> int:
    """An integer option (``"10"`` or ``10``) no smaller than ``minimum``."""
    value = options.get(name, default)
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise EvaluationError(f"evaluator {protocol!r}: option {name}={value!r} is not an integer") from None
    if number < minimum:
        raise EvaluationError(f"evaluator {protocol!r}: option {name}={number} must be >= {minimum}")
    return number


def bool_option(protocol: str, options: Mapping[str, Any], name: str, default: bool) -> bool:
    """A boolean option (``true/false/1/0/yes/no`` or a bool)."""
    value = options.get(name, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise EvaluationError(f"evaluator {protocol!r}: option {name}={value!r} is not a boolean (true/false)")


def choice_option(
    protocol: str, options: Mapping[str, Any], name: str, choices: tuple[str, ...], default: str
) -> str:
    """One of ``choices``."""
    value = str(options.get(name, default))
    if value not in choices:
        raise EvaluationError(f"evaluator {protocol!r}: option {name}={value!r}; valid: {', '.join(choices)}")
    return value


def check_inputs(
    protocol: str, query_n: int, gallery_n: int, query: SplitLabels, gallery: SplitLabels
) -> None:
    """Feature (or distance) counts must equal the label counts."""
    if query_n != len(query):
        raise EvaluationError(
            f"evaluator {protocol!r}: {query_n} query features/rows but {len(query)} query labels (query_pids)"
        )
    if gallery_n != len(gallery):
        raise EvaluationError(
            f"evaluator {protocol!r}: {gallery_n} gallery features/columns but {len(gallery)} gallery labels "
            "(gallery_pids)"
        )
    if query_n == 0 or gallery_n == 0:
        raise EvaluationError(f"evaluator {protocol!r}: empty query ({query_n}) or gallery ({gallery_n})")
