"""Errors the engine raises for the user (shown by the CLI as one ``Error:`` line)."""

from __future__ import annotations


class EngineError(Exception):
    """A run cannot start or continue; the message names the folder or file and the fix."""


class NonFiniteLossError(EngineError):
    """A loss term became NaN or infinite; the message names the terms, the epoch and the iteration."""

    def __init__(self, message: str, *, terms: list[str], epoch: int, iteration: int) -> None:
        super().__init__(message)
        self.terms = terms
        self.epoch = epoch
        self.iteration = iteration


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run; the message says after which epoch and the command that resumes it.

    A ``KeyboardInterrupt``, so that code which lets Ctrl-C through keeps doing so; ``reid``
    prints the message and exits with status 130.
    """
