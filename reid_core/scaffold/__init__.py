"""``reid new-plugin NAME --kind KIND``: write a working plugin package whose own tests pass.

The package (``reid-plugin-NAME/``) has a ``pyproject.toml`` with the ``reid`` entry point, the
hook implementation registering one ``KIND`` (method, dataset, loss, backbone or evaluator), a
real implementation to start from, a README and tests built on :mod:`reid_core.testing`
(the contract check, plus kind-specific tests; a method gets ``run_method_smoke``).
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import click

from reid_core import __version__
from reid_core.scaffold import common, components, dataset, method

#: kind -> (registry, implementation module, factory, implementation template, test template)
KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "method": ("methods", "method", "${cls}", method.IMPL, method.TEST),
    "dataset": ("datasets", "dataset", "${cls}", dataset.IMPL, dataset.TEST),
    "loss": ("losses", "loss", "${cls}", components.LOSS_IMPL, components.LOSS_TEST),
    "backbone": ("backbones", "backbone", "build", components.BACKBONE_IMPL, components.BACKBONE_TEST),
    "evaluator": ("evaluators", "evaluator", "${cls}", components.EVALUATOR_IMPL, components.EVALUATOR_TEST),
}
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class ScaffoldError(ValueError):
    """A name or a target folder that cannot be used; the message says why."""


def _values(name: str, kind: str) -> dict[str, str]:
    if not NAME.match(name):
        raise ScaffoldError(
            f"plugin name {name!r}: use lower-case letters and digits, words joined by '-' (e.g. my-method)"
        )
    major, minor = (int(x) for x in __version__.split(".")[:2])
    registry, impl, factory, _, _ = KINDS[kind]
    cls = "".join(part.capitalize() for part in name.split("-"))
    values = {
        "name": name,
        "kind": kind,
        "dist": f"reid-plugin-{name}",
        "module": "reid_plugin_" + name.replace("-", "_"),
        "section": name.replace("-", "_"),
        "cls": cls,
        "title": cls,
        "registry": registry,
        "impl": impl,
        "core_min": f"{major}.{minor}",
        "core_next": f"{major}.{minor + 1}" if major == 0 else f"{major + 1}",
    }
    values["factory"] = Template(factory).substitute(values)
    values["usage"] = Template(common.USAGE[kind]).substitute(values)
    return values


def plugin_files(name: str, kind: str = "method") -> dict[str, str]:
    """``{relative path: text}`` of the plugin package ``reid-plugin-NAME`` (nothing written)."""
    if kind not in KINDS:
        raise ScaffoldError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    v = _values(name, kind)
    _, impl, _, impl_template, test_template = KINDS[kind]
    module = v["module"]
    files = {
        "pyproject.toml": common.PYPROJECT,
        "README.md": common.README,
        f"{module}/__init__.py": common.INIT,
        f"{module}/plugin.py": common.PLUGIN,
        f"{module}/{impl}.py": impl_template,
        f"tests/test_{module}.py": test_template,
    }
    return {path: Template(text).substitute(v) for path, text in files.items()}


def write_plugin(name: str, kind: str = "method", parent: str | Path = ".") -> Path:
    """Write ``parent/reid-plugin-NAME/`` and return it; refuses an existing folder or a name the
    core already registers for that kind."""
    from reid_core.plugins import ReidPluginManager

    files = plugin_files(name, kind)
    registry = KINDS[kind][0]
    taken = ReidPluginManager(entry_points=False).registry(registry)
    if name in taken:
        raise ScaffoldError(f"{kind} {name!r} is already registered by the core ({registry}); choose another name")
    target = Path(parent).expanduser() / f"reid-plugin-{name}"
    if target.exists():
        raise ScaffoldError(f"{target} already exists; remove it or choose another --output folder")
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


@click.command("new-plugin")
@click.argument("name")
@click.option("--kind", type=click.Choice(list(KINDS)), default="method", show_default=True,
              help="What the plugin registers.")
@click.option("--output", "parent", type=click.Path(file_okay=False), default=".", show_default=True,
              help="The folder to create reid-plugin-NAME in.")
def new_plugin(name: str, kind: str, parent: str) -> None:
    """Write a working plugin package reid-plugin-NAME (its tests pass out of the box)."""
    try:
        target = write_plugin(name, kind, parent)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {target}")
    click.echo(f"next: cd {target} && pip install -e '.[test]' && python -m pytest -q")


__all__ = ["KINDS", "ScaffoldError", "new_plugin", "plugin_files", "write_plugin"]
