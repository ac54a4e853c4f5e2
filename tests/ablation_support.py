"""Helpers of the tests that run a comparison script of ``benchmarks/ablations/`` in process at a tiny budget
(pytest puts this ``tests`` folder on ``sys.path``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

ABLATIONS = Path(__file__).resolve().parents[1] / "benchmarks" / "ablations"


def load_script(name: str) -> ModuleType:
    """The script ``benchmarks/ablations/<name>.py`` as a module (its ``main(argv)`` runs in process)."""
    spec = importlib.util.spec_from_file_location(f"{name}_ablation_script", ABLATIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_into_readme(module: ModuleType, argv: list[str], tmp_path: Path) -> tuple[Any, str]:
    """Run ``module.main(argv)`` with ``--readme`` on a page holding the script's block; check that exactly the
    block was replaced by the written markdown table (``<out>/<module.NAME>.md``); (main's return, the page)."""
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{module.START}\nold\n{module.END}\nafter\n")
    out = Path(argv[argv.index("--out") + 1])
    returned = module.main([*argv, "--readme", str(readme)])
    text = readme.read_text()
    assert text.startswith(f"before\n{module.START}\n") and text.endswith(f"{module.END}\nafter\n")
    assert "old" not in text and "commit `" in text
    assert (out / f"{module.NAME}.md").read_text() in text
    script = Path(module.__file__ or "").name
    assert f"Command: `python benchmarks/ablations/{script}" in text
    return returned, text
