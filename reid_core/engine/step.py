"""One optimisation step: NaN/inf checks, AMP, gradient accumulation, clipping, optimizer steps.

:class:`StepRunner` implements the :class:`reid_core.methods.StepContext` protocol. The engine
creates one per stage, updates its counters each iteration and calls
:meth:`StepRunner.optimize` for methods with ``manual_optimization = False``; manual methods
call it themselves, as often as they need, with the optimizers each loss should step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from reid_core.engine.errors import NonFiniteLossError

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def make_scaler(amp: str, device: torch.device) -> torch.amp.GradScaler | None:
    """A gradient scaler for fp16 (bf16 and fp32 need none)."""
    if amp != "fp16":
        return None
    return torch.amp.GradScaler(device.type)


class StepRunner:
    """The per-iteration state and the ``optimize`` call a method's ``training_step`` uses.

    Args:
        optimizers: the method's named optimizers (looked up at each call: stages may replace them).
        amp: ``off``, ``bf16`` or ``fp16``.
        device: where the method's modules live (for autocast).
        grad_clip: maximum gradient norm over each stepped optimizer's parameters (0 = off).
        accumulate: back-propagate every iteration, step the optimizers every ``accumulate``.
        scaler: the fp16 gradient scaler (``None`` otherwise).
    """

    def __init__(
        self,
        optimizers: Any,
        *,
        amp: str,
        device: torch.device,
        grad_clip: float = 0.0,
        accumulate: int = 1,
        scaler: torch.amp.GradScaler | None = None,
    ) -> None:
        self._optimizers = optimizers
        self.amp = amp
        self.device = device
        self.grad_clip = grad_clip
        self.accumulate = accumulate
        self.scaler = scaler
        self.epoch = 0
        self.stage_epoch = 0
        self.iteration = 0
        self.global_step = 0
        self.iterations_in_epoch = 1
        self._stepped = False

    # -- per iteration -------------------------------------------------------------------------
    def begin(self, *, epoch: int, stage_epoch: int, iteration: int, global_step: int, iterations: int) -> None:
        """Set the counters of the coming iteration."""
        self.epoch, self.stage_epoch, self.iteration = epoch, stage_epoch, iteration
        self.global_step, self.iterations_in_epoch = global_step, iterations
        self._stepped = False

    def end(self) -> None:
        """After the iteration: update the fp16 scale once if any optimizer stepped."""
        if self._stepped and self.scaler is not None:
            self.scaler.update()

    @property
    def is_update_step(self) -> bool:
        """Whether this iteration steps the optimizers (the last of an accumulation group, or of the epoch)."""
        return (self.iteration + 1) % self.accumulate == 0 or self.iteration + 1 >= self.iterations_in_epoch

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The autocast context of ``train.amp`` (a no-op when off)."""
        if self.amp == "off":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=AMP_DTYPES[self.amp])

    # -- the StepContext call ------------------------------------------------------------------
    def check_finite(self, losses: Mapping[str, torch.Tensor]) -> None:
        """Raise :class:`NonFiniteLossError` naming every NaN/inf loss term (one device sync)."""
        tensors = {k: v for k, v in losses.items() if isinstance(v, torch.Tensor)}
        if not tensors:
            return
        values = torch.stack([v.detach().float().reshape(-1).sum() for v in tensors.values()])
        if bool(torch.isfinite(values).all()):
            return
        bad = [name for name, value in zip(tensors, values.tolist()) if not torch.isfinite(torch.tensor(value))]
        shown = ", ".join(f"{name}={value:.4g}" for name, value in zip(tensors, values.tolist()))
        raise NonFiniteLossError(
            f"non-finite loss {', '.join(map(repr, bad))} at epoch {self.epoch + 1} "
            f"(stage epoch {self.stage_epoch + 1}), iteration {self.iteration + 1}/{self.iterations_in_epoch} "
            f"(numbered as in the progress line; global step {self.global_step}); "
            f"loss terms: {shown}. Lower the learning rate, enable train.grad_clip, or check the data.",
            terms=bad,
            epoch=self.epoch,
            iteration=self.iteration,
        )

    def optimize(
        self,
        losses: Mapping[str, torch.Tensor],
        optimizers: str | Sequence[str],
        *,
        retain_graph: bool = False,
    ) -> torch.Tensor:
        """Check, back-propagate the sum of ``losses`` and step the named optimizers.

        Under accumulation the gradients of ``accumulate`` iterations are averaged before a step.
        ``retain_graph`` keeps the graph for a later ``optimize`` call that back-propagates
        through the same forward pass. Returns the detached total (unscaled).
        """
        names = [optimizers] if isinstance(optimizers, str) else list(optimizers)
        available = self._optimizers()
        missing = [n for n in names if n not in available]
        if missing:
            raise KeyError(
                f"optimize() got unknown optimizer(s) {missing}; the method registered {sorted(available)} "
                "with add_optimizer"
            )
        self.check_finite(losses)
        terms = [v for v in losses.values() if isinstance(v, torch.Tensor) and v.requires_grad]
        if not terms:
            raise ValueError(f"optimize() got no loss term that requires a gradient: {sorted(losses)}")
        total = terms[0] if len(terms) == 1 else torch.stack([t.float().reshape(()) for t in terms]).sum()
        backward = total / self.accumulate if self.accumulate > 1 else total
        if self.scaler is not None:
            self.scaler.scale(backward).backward(retain_graph=retain_graph)
        else:
            backward.backward(retain_graph=retain_graph)
        if self.is_update_step:
            chosen = [available[n] for n in names]
            if self.grad_clip > 0:
                for optimizer in chosen:
                    if self.scaler is not None:
                        self.scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(list(_params(optimizer)), self.grad_clip)
            for optimizer in chosen:
                if self.scaler is not None:
                    self.scaler.step(optimizer)
                else:
                    optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            self._stepped = True
        return total.detach()


def _params(optimizer: torch.optim.Optimizer) -> Iterator[torch.Tensor]:
    for group in optimizer.param_groups:
        for param in group["params"]:
            if param.grad is not None:
                yield param
