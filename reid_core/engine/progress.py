"""Progress reporting without tqdm: one rewritten line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import IO

logger = logging.getLogger(__name__)


class Progress:
    """Shows epoch, iteration, mean losses and images/s.

    On a TTY the line is rewritten in place (carriage return) at every update; elsewhere (logs,
    CI, pipes) a plain log line is written every ``log_every`` iterations and at the epoch's end.
    """

    def __init__(self, *, enabled: bool, log_every: int, stream: IO[str] | None = None) -> None:
        self.enabled = enabled
        self.log_every = log_every
        self.stream = stream if stream is not None else sys.stderr
        self.tty = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_draw = 0.0

    def update(self, *, epoch: int, epochs: int, iteration: int, iterations: int, losses: dict[str, float],
               images_per_second: float, stage: str) -> None:
        """Report iteration ``iteration`` (1-based count done) of ``iterations``."""
        if not self.enabled:
            return
        text = self._format(epoch, epochs, iteration, iterations, losses, images_per_second, stage)
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw >= 0.2 or iteration == iterations:
                self.stream.write("\r" + text[:200].ljust(100))
                self.stream.flush()
                self._last_draw = now
        elif iteration % self.log_every == 0 or iteration == iterations:
            logger.info(text)

    def close_epoch(self) -> None:
        """End the rewritten line before other output follows."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    @staticmethod
    def _format(epoch: int, epochs: int, iteration: int, iterations: int, losses: dict[str, float],
                images_per_second: float, stage: str) -> str:
        loss_text = " ".join(f"{k}={v:.4f}" for k, v in losses.items())
        return (
            f"[{stage}] epoch {epoch + 1}/{epochs} iter {iteration}/{iterations} "
            f"{loss_text} {images_per_second:.1f} img/s"
        )
