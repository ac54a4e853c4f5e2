"""Meta-test: every hook has a docstring, a section with an example in docs/hooks.md, and a test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from reid_core import hookspecs
from reid_core.plugins import ReidPluginManager

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ReidPluginManager.hook_names()


def test_hook_set_is_the_documented_one() -> None:
    assert sorted(
        [f"reid_register_{k}" for k in ("datasets", "backbones", "methods", "losses", "evaluators", "samplers", "commands")]
        + ["reid_run_start", "reid_epoch_end", "reid_run_end"]
    ) == HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_docstring(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 60 and "called" in doc.lower(), f"{hook} needs a docstring saying when it is called"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_documentation_section_with_an_example(hook: str) -> None:
    text = (ROOT / "docs" / "hooks.md").read_text()
    match = re.search(rf"^## {hook}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"docs/hooks.md has no section '## {hook}'"
    assert f"def {hook}(" in match.group(1), f"the {hook} section needs a runnable example"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_exercised_by_a_test(hook: str) -> None:
    tests = [p for p in (ROOT / "tests").glob("test_*.py") if p.name != Path(__file__).name]
    assert any(hook in p.read_text() for p in tests), f"no test under tests/ uses {hook}"
