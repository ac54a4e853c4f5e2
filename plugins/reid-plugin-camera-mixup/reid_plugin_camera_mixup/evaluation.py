"""``market-trapezoid``: the core's ``market`` protocol with Market-1501's official average precision.

camera-mixup's numbers come from ``utils/eval_cmc.py``, which computes AP with the trapezoid rule of
the Market-1501 evaluation code: ``AP = sum_k (r_k - r_{k-1}) * (p_{k-1} + p_k) / 2`` over the ranks
``k`` of the good items after junk removal, ``p_{k-1}`` being the precision one rank earlier (1 at
rank 1). The core implements both AP definitions (``ap`` option of ``market``); this evaluator makes
the trapezoid one a protocol of its own, usable with any data set (``reid evaluate-features
--protocol market-trapezoid``) and reported by every camera-mixup run next to ``market``.
"""

from __future__ import annotations

from typing import Any

from reid_core.evaluation import EvaluationError
from reid_core.plugins import get_registry


def market_trapezoid(**options: Any) -> Any:
    """The ``market`` evaluator (same junk rule, CMC and options) with ``ap = "trapezoid"``."""
    if "ap" in options and options["ap"] != "trapezoid":
        raise EvaluationError(
            f"evaluator 'market-trapezoid' always uses the trapezoid AP, got ap={options['ap']!r}; "
            "use the 'market' evaluator for the non-interpolated AP"
        )
    return get_registry("evaluators").create("market", **{**options, "ap": "trapezoid"})
