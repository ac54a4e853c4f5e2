"""Learning-rate schedules shared by methods: the warm-up + multi-step decay of BoT, CAMC and
fast-reid (``WarmupMultiStepLR``), stepped once per epoch.

``lr(e) = base_lr * warm(e) * gamma ** #{m in milestones : e >= m}`` with the linear warm-up
``warm(e) = factor * (1 - e / warmup_epochs) + e / warmup_epochs`` for ``e < warmup_epochs``
(``"constant"``: ``warm(e) = factor``) and ``warm(e) = 1`` afterwards. Epoch 0 trains at
``base_lr * factor``; the engine steps every scheduler after each epoch (``Method.on_epoch_end``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

WARMUP_METHODS = ("linear", "constant")


def warmup_multistep(
    warmup_epochs: int,
    warmup_factor: float,
    milestones: Sequence[int],
    gamma: float = 0.1,
    method: str = "linear",
) -> Callable[[int], float]:
    """The schedule as a factor of the base learning rate per epoch (for ``LambdaLR``).

    Args:
        warmup_epochs: length of the warm-up in epochs (0 = none).
        warmup_factor: the factor at epoch 0.
        milestones: epochs at which the rate is multiplied by ``gamma`` (increasing).
        gamma: decay factor.
        method: ``"linear"`` (ramp from ``warmup_factor`` to 1) or ``"constant"``.
    """
    if method not in WARMUP_METHODS:
        raise ValueError(f"unknown warm-up method {method!r}; choose one of {', '.join(WARMUP_METHODS)}")
    steps = tuple(int(m) for m in milestones)

    def factor(epoch: int) -> float:
        warm = 1.0
        if epoch < warmup_epochs:
            if method == "constant":
                warm = warmup_factor
            else:
                alpha = epoch / warmup_epochs
                warm = warmup_factor * (1 - alpha) + alpha
        return warm * gamma ** sum(1 for m in steps if epoch >= m)

    return factor


def warmup_multistep_lr(
    optimizer: torch.optim.Optimizer,
    warmup_epochs: int,
    warmup_factor: float,
    milestones: Sequence[int],
    gamma: float = 0.1,
    method: str = "linear",
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` over ``optimizer`` following :func:`warmup_multistep` (step it once per epoch)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_multistep(warmup_epochs, warmup_factor, milestones, gamma, method)
    )


__all__ = ["WARMUP_METHODS", "warmup_multistep", "warmup_multistep_lr"]
