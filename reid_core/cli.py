"""The ``reid`` command: plugins, registries, runs. Plugins add commands via ``reid_register_commands``."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from reid_core import __version__
from reid_core.config import ConfigError
from reid_core.plugins import ReidPluginManager, get_plugin_manager, set_plugin_manager
from reid_core.registry import KINDS, RegistryError

USER_ERRORS: tuple[type[BaseException], ...] = (ConfigError, RegistryError)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions shown as a one-line error, not a traceback."""
    from reid_core.datasets.base import DatasetError
    from reid_core.engine.errors import EngineError
    from reid_core.evaluation.base import EvaluationError
    from reid_core.models.weights import WeightsError
    from reid_core.plugins import PluginError

    return (*USER_ERRORS, DatasetError, EvaluationError, PluginError, EngineError, WeightsError)


#: ``REID_DEBUG=1`` prints the traceback of a user error before its one-line message.
DEBUG_ENV = "REID_DEBUG"
#: The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT = 130


def debug_enabled() -> bool:
    """True when ``REID_DEBUG`` is set to anything but ``""`` or ``0``."""
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


def one_line(exc: BaseException) -> str:
    """The message of a user error on one line.

    An error re-raised from a DataLoader worker carries the worker's whole traceback in its
    message; only its last line (the original message) is kept. An empty message becomes the
    exception's class name.
    """
    text = str(exc).strip()
    if "\nOriginal Traceback" in text:
        last = text.splitlines()[-1].strip()
        head, sep, tail = last.partition(": ")
        text = tail if sep and "Error" in head else last
    text = " ".join(text.split())
    return text or type(exc).__name__


class ReidGroup(click.Group):
    """Turns the project's user errors into clean ``Error:`` lines and Ctrl-C into exit status 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except user_errors() as exc:
            if debug_enabled():
                traceback.print_exc()
            raise click.ClickException(one_line(exc)) from exc
        except KeyboardInterrupt as exc:  # the run already logged where it stopped and how to resume
            if debug_enabled():
                traceback.print_exc()
            message = str(exc).strip() or "interrupted"
            click.echo(f"Error: {message}", err=True)
            raise click.exceptions.Exit(INTERRUPTED_EXIT) from None


@click.group(cls=ReidGroup)
@click.version_option(__version__, prog_name="reid")
@click.option(
    "--disable-plugin",
    "disable_plugins",
    multiple=True,
    metavar="NAME",
    help="Turn a plugin off for this command (repeatable; also REID_DISABLE_PLUGINS=a,b).",
)
def cli(disable_plugins: tuple[str, ...]) -> None:
    """reid: person re-identification, with datasets, models, methods and evaluators as plugins."""
    get_plugin_manager().check_disabled_names()  # a misspelt name must not pass silently


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins_cmd(as_json: bool) -> None:
    """List every plugin, its version, status and what it registered."""
    infos = get_plugin_manager().plugin_infos()
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in infos], indent=2))
        return
    for info in infos:
        dist = f"{info.distribution} {info.version}" if info.distribution else "(no distribution)"
        click.echo(f"{info.name}  [{info.status}]  {dist}")
        if info.error:
            click.echo(f"    error: {info.error}")
        for kind in KINDS:
            if info.registered.get(kind):
                click.echo(f"    {kind}: {', '.join(info.registered[kind])}")


@cli.command("list")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(kind: str, as_json: bool) -> None:
    """List one registry: name, description and the plugin that registered it."""
    registry = get_plugin_manager().registry(kind)
    rows = [{"name": e.name, "description": e.description, "plugin": e.plugin} for e in registry]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(r["name"]) for r in rows), default=4)
    for row in rows:
        click.echo(f"{row['name']:<{width}}  {row['description']}  ({row['plugin']})")


def _disabled_from_argv(argv: Sequence[str]) -> list[str]:
    """``--disable-plugin`` values, read before click runs (plugins add commands at start)."""
    names = []
    for i, arg in enumerate(argv):
        if arg == "--disable-plugin" and i + 1 < len(argv):
            names.append(argv[i + 1])
        elif arg.startswith("--disable-plugin="):
            names.append(arg.split("=", 1)[1])
    return names


def build_cli(manager: ReidPluginManager) -> click.Group:
    """The root group with the builtin commands and every plugin's commands."""
    from reid_core import run_commands  # noqa: F401  (adds run / eval to ``cli``)

    group = cli
    from reid_core.scaffold import new_plugin

    group.add_command(new_plugin)
    added = getattr(group, "_reid_plugin_commands", None)
    if added is not None:  # rebuilt in the same process (tests): drop earlier plugin commands
        for name in added:
            group.commands.pop(name, None)
    before = set(group.commands)
    manager.pm.hook.reid_register_commands(cli=group)
    group._reid_plugin_commands = set(group.commands) - before  # type: ignore[attr-defined]
    return group


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point of ``reid``."""
    args = list(sys.argv[1:] if argv is None else argv)
    set_plugin_manager(ReidPluginManager(disabled=_disabled_from_argv(args)))
    manager = get_plugin_manager()
    for info in manager.infos.values():
        if info.status == "failed":
            click.echo(f"warning: plugin {info.name!r} failed to load: {info.error}", err=True)
    build_cli(manager).main(args=args, prog_name="reid")
