"""Progress of long work through tqdm: a bar with rate and ETA on a terminal, plain log lines elsewhere.

Everything long in reid (training epochs, feature extraction, data set scans, synthetic rendering,
clustering) reports through :func:`track` or :class:`Progress`, so one setting controls them all:

- on a terminal (the stream is a TTY): a tqdm bar, redrawn at most 5 times a second, with the
  count, the rate and the ETA (and the method's running losses during training);
- elsewhere (a log file, CI, a pipe): no bar, but a plain ``logging`` line every ``log_every``
  items, or every ``interval`` seconds, and one at the end, each with the rate and the ETA;
- ``REID_PROGRESS=bar|log|off`` forces one of the three (``auto``, the default, chooses as above).

Only the main process reports: under ``torchrun`` the ranks other than 0 stay quiet (``enabled``
defaults to ``RANK`` being unset or ``0``).

Example::

    from reid_core.progress import track

    for path in track(paths, desc="scan market1501", unit="img"):
        ...
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar

from tqdm import tqdm

logger = logging.getLogger(__name__)

T = TypeVar("T")
MODES = ("auto", "bar", "log", "off")
#: Seconds between two plain log lines when no ``log_every`` is given.
DEFAULT_INTERVAL = 30.0


def mode_from_env() -> str:
    """``REID_PROGRESS`` (``auto`` when unset); an unknown value is a one-line error naming the choices."""
    value = os.environ.get("REID_PROGRESS", "auto").strip().lower() or "auto"
    if value not in MODES:
        from reid_core.config import ConfigError

        raise ConfigError(f"REID_PROGRESS={value!r} is not one of {', '.join(MODES)}")
    return value


def is_main_process() -> bool:
    """True unless this is a ``torchrun`` worker of rank > 0."""
    return os.environ.get("RANK", "0") == "0"


def format_seconds(seconds: float) -> str:
    """``1:02:03`` / ``02:03`` (tqdm's own format, so bar and log lines agree)."""
    return tqdm.format_interval(max(0.0, seconds))


class Progress:
    """A counter of ``total`` items shown as a tqdm bar (terminal) or as periodic log lines.

    Args:
        total: the number of items (``None``: unknown; no percentage or ETA).
        desc: what is counted, first on the line (``"[train] epoch 1/3"``, ``"features query"``).
        unit: the item's name in the rate (``it``, ``img``, ``batch``).
        enabled: report at all (default: the main process only).
        log_every: without a terminal, a line every this many items (and at the end).
        interval: without a terminal and ``log_every``, a line at most every this many seconds.
        stream: the terminal to draw on (default ``sys.stderr``); also decides "is it a terminal".
        mode: ``auto``/``bar``/``log``/``off`` (default: ``REID_PROGRESS``).
        count_word: the word before ``n/total`` on log lines (the training loop uses ``iter``).
        log: the logger of the plain lines.
        leave: keep the finished bar on the terminal (training epochs) instead of clearing it.
    """

    def __init__(
        self,
        total: int | None,
        *,
        desc: str = "",
        unit: str = "it",
        enabled: bool | None = None,
        log_every: int | None = None,
        interval: float = DEFAULT_INTERVAL,
        stream: IO[str] | None = None,
        mode: str | None = None,
        count_word: str = "",
        log: logging.Logger | None = None,
        leave: bool = False,
    ) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.log_every = log_every
        self.interval = interval
        self.count_word = count_word
        self.logger = log or logger
        self.stream = stream if stream is not None else sys.stderr
        self.n = 0
        self.postfix = ""
        self._start = time.monotonic()
        self._last_line = self._start
        self._logged_at = -1
        mode = mode or mode_from_env()
        on = is_main_process() if enabled is None else enabled
        if not on or mode == "off":
            self.kind = "off"
        elif mode == "bar" or (mode == "auto" and bool(getattr(self.stream, "isatty", lambda: False)())):
            self.kind = "bar"
        else:
            self.kind = "log"
        self._bar: tqdm | None = None
        if self.kind == "bar":
            self._bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, mininterval=0.2,
                             dynamic_ncols=True, leave=leave)

    @property
    def enabled(self) -> bool:
        return self.kind != "off"

    @property
    def tty(self) -> bool:
        """True when drawing a bar (the caller may then skip work that only log lines need)."""
        return self.kind == "bar"

    def rate(self) -> float:
        """Items per second so far."""
        return self.n / max(time.monotonic() - self._start, 1e-9)

    def due(self, n: int = 1) -> bool:
        """Whether counting ``n`` more items will show something (a bar redraw or a log line): callers
        compute an expensive ``postfix`` (a device sync for the running losses) only then."""
        if self.kind == "off":
            return False
        after = self.n + n
        now = time.monotonic()
        if self.kind == "bar":
            if after == self.total:
                return True
            return now - self._last_line >= 0.2
        if after == self.total and self._final_due(now):
            return True
        return self._crossed(after) if self.log_every else (now - self._last_line >= self.interval)

    def _crossed(self, n: int) -> bool:
        """Whether count ``n`` passed a multiple of ``log_every`` since the last line (items may come in
        batches, so the count need not hit the multiple exactly)."""
        assert self.log_every
        return n // self.log_every > max(self._logged_at, 0) // self.log_every

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        """Count ``n`` more items done; ``postfix`` replaces the text shown after the counter."""
        self.n += n
        if postfix is not None:
            self.postfix = postfix
        if self.kind == "bar":
            assert self._bar is not None
            if postfix is not None:
                self._bar.set_postfix_str(postfix, refresh=False)
                self._last_line = time.monotonic()
            self._bar.update(n)
            if self.n == self.total:
                self._bar.refresh()  # the finished state, whatever mininterval skipped
        elif self.kind == "log":
            now = time.monotonic()
            due = self._crossed(self.n) if self.log_every else (now - self._last_line >= self.interval)
            if due or (self.n == self.total and self._final_due(now)):
                self._log_line(now)

    def line(self) -> str:
        """The plain log line for the current count: desc, count, postfix, rate and ETA."""
        count = f"{self.n}/{self.total}" if self.total is not None else str(self.n)
        if self.count_word:
            count = f"{self.count_word} {count}"
        parts = [p for p in (self.desc, count, self.postfix) if p]
        rate = self.rate()
        elapsed = time.monotonic() - self._start
        timing = f"{rate:.1f} {self.unit}/s"
        if self.total is not None and self.n < self.total and self.n > 0:
            timing += f", eta {format_seconds(elapsed / self.n * (self.total - self.n))}"
        else:
            timing += f", {format_seconds(elapsed)} elapsed"
        return " ".join(parts) + " " + timing

    def _log_line(self, now: float) -> None:
        if self._logged_at == self.n:
            return
        self._logged_at = self.n
        self._last_line = now
        self.logger.info(self.line())

    def close(self) -> None:
        """Remove the bar (terminal) or write the final line (logs) when not written yet.

        Without ``log_every``, work shorter than one ``interval`` writes no final line, so that
        short loops (a small evaluation) do not fill the log."""
        if self.kind == "bar" and self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.kind == "log":
            now = time.monotonic()
            if self._final_due(now):
                self._log_line(now)

    def _final_due(self, now: float) -> bool:
        return bool(self.log_every) or now - self._start >= self.interval

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def track(
    iterable: Iterable[T],
    *,
    desc: str = "",
    total: int | None = None,
    unit: str = "it",
    enabled: bool | None = None,
    log_every: int | None = None,
    interval: float = DEFAULT_INTERVAL,
    stream: IO[str] | None = None,
) -> Iterator[T]:
    """Yield the items of ``iterable`` while reporting progress (see :class:`Progress`).

    ``total`` defaults to ``len(iterable)`` when it has one. The bar is closed (or the final line
    written) when the loop ends, also on ``break`` or an exception.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    progress = Progress(total, desc=desc, unit=unit, enabled=enabled, log_every=log_every, interval=interval,
                        stream=stream)
    try:
        for item in iterable:
            yield item
            progress.update()
    finally:
        progress.close()


__all__ = ["MODES", "Progress", "format_seconds", "is_main_process", "mode_from_env", "track"]
