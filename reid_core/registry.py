"""Name -> factory tables, one per kind, each entry remembering the plugin that registered it."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

import attrs

KINDS = ("datasets", "backbones", "methods", "losses", "evaluators", "samplers")


class RegistryError(Exception):
    """A name is registered twice, or a name is not registered."""


class UnknownNameError(RegistryError, KeyError):
    """A name that no plugin registered; the message lists the choices and the nearest one."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@attrs.frozen
class Entry:
    """One registered name."""

    name: str
    factory: Callable[..., Any]
    plugin: str
    description: str = ""


def suggest(name: str, choices: list[str]) -> str:
    """A "did you mean" phrase for ``name`` among ``choices`` ("" when nothing is close)."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


class Registry:
    """The entries of one kind (datasets, backbones, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def add(self, name: str, factory: Callable[..., Any], plugin: str, description: str = "") -> None:
        if not isinstance(name, str) or not name:
            raise RegistryError(f"plugin {plugin!r} registered a {self.kind[:-1]} with an invalid name {name!r}")
        if not callable(factory):
            raise RegistryError(
                f"plugin {plugin!r} registered {self.kind[:-1]} {name!r} with a factory that is not callable"
            )
        if name in self._entries:
            first = self._entries[name].plugin
            raise RegistryError(
                f"{self.kind[:-1]} {name!r} is registered twice: by plugin {first!r} and by plugin "
                f"{plugin!r}. Disable one of them (REID_DISABLE_PLUGINS={plugin}) or rename it."
            )
        self._entries[name] = Entry(name, factory, plugin, description)

    def get(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            names = sorted(self._entries)
            raise UnknownNameError(
                f"unknown {self.kind[:-1]} {name!r}.{suggest(name, names)} "
                f"Available {self.kind}: {', '.join(names) or '(none)'}."
            ) from None

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the factory registered under ``name``."""
        return self.get(name).factory(*args, **kwargs)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries[n] for n in sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
