"""The plugin author kit: what a reid plugin's own tests need (pytest's ``pytester`` idea, for reid).

- :func:`plugin_manager_with` / :func:`active_plugin_manager`: a manager with your plugin registered;
- :func:`tiny_dataset`: tiny synthetic data sets of each kind (market, cloth-changing, infrared,
  two-domains, keypoints), also as pytest fixtures (``reid_market``, ...);
- :func:`run_method_smoke`: train a method a few steps, evaluate, interrupt, resume, re-evaluate;
- :func:`check_plugin` / :func:`assert_plugin_contract`: the contract of a plugin's registrations.

The fixtures come from the pytest plugin :mod:`reid_core.testing.pytest_plugin`, which reid-core
installs under the ``pytest11`` entry point. Example::

    from reid_core.testing import assert_plugin_contract, run_method_smoke
    import reid_plugin_mine.plugin

    def test_contract():
        assert_plugin_contract(reid_plugin_mine.plugin, name="mine")

    def test_trains_evaluates_and_resumes(tmp_path):
        result = run_method_smoke("mine", "cloth-changing", output_dir=tmp_path / "run")
        assert result.resumed
"""

from __future__ import annotations

from reid_core.testing.contract import assert_plugin_contract, check_config_class, check_plugin
from reid_core.testing.datasets import KINDS, check_dataset, tiny_dataset, tiny_options
from reid_core.testing.managers import active_plugin_manager, plugin_manager_with
from reid_core.testing.smoke import SMOKE_SETS, SmokeResult, run_method_smoke

__all__ = [
    "KINDS",
    "SMOKE_SETS",
    "SmokeResult",
    "active_plugin_manager",
    "assert_plugin_contract",
    "check_config_class",
    "check_dataset",
    "check_plugin",
    "plugin_manager_with",
    "run_method_smoke",
    "tiny_dataset",
    "tiny_options",
]
