"""The plugin author kit: tiny data set fixtures, the contract check and run_method_smoke."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest

from reid_core import hookimpl
from reid_core.methods.baseline import Baseline, BaselineConfig
from reid_core.testing import assert_plugin_contract, check_dataset, check_plugin


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [("reid_market", "market"), ("reid_cloth_changing", "cloth-changing"), ("reid_infrared", "infrared"),
     ("reid_two_domains", "two-domains"), ("reid_keypoints", "keypoints")],
)
def test_each_tiny_data_set_fixture_is_sound(fixture: str, kind: str, request: pytest.FixtureRequest) -> None:
    dataset = request.getfixturevalue(fixture)  # from the pytest11 entry point: no import here
    assert check_dataset(dataset, kind=kind) == []
    assert len({s.pid for s in dataset.train}) == 4


def test_fixture_kinds_carry_their_fields(reid_cloth_changing: Any, reid_infrared: Any, reid_two_domains: Any) -> None:
    assert len({s.clothes_id for s in reid_cloth_changing.train}) > len({s.pid for s in reid_cloth_changing.train})
    assert {s.modality for s in reid_infrared.train} == {"visible", "infrared"}
    assert {s.domain for s in reid_two_domains.train} == {"a"} and {s.domain for s in reid_two_domains.query} == {"b"}
    assert check_dataset(reid_two_domains, kind="cloth-changing") == [
        "a cloth-changing data set needs Sample.clothes_id on every sample"]


def test_the_core_plugins_keep_the_contract(reid_plugins: Any) -> None:
    from reid_core.plugins import get_plugin_manager

    assert get_plugin_manager() is reid_plugins  # the fixture's fresh manager is the process-wide one
    for name in ("core.methods", "core.datasets", "core.losses", "core.models", "core.evaluation"):
        assert check_plugin(name) == [], name


@attrs.define  # not frozen, and a field without a default
class LooseConfig:
    width: int
    epochs: int = 1


class Broken(Baseline):
    name = "broken-name"  # registered as "broken"
    config_class = LooseConfig
    profiles: ClassVar[dict[str, Any]] = {"quick": {"broken": {"no_such_key": 1}}}


class BrokenPlugin:
    @hookimpl
    def reid_register_methods(self, register: Any) -> None:
        register("broken", Broken, description="")

    @hookimpl
    def reid_register_datasets(self, register: Any) -> None:
        register("Bad Name", lambda: None, description="takes no root")


def test_the_contract_check_names_every_broken_rule() -> None:
    problems = check_plugin(BrokenPlugin(), name="broken-plugin")
    text = "\n".join(problems)
    assert "method 'broken': no description" in text
    assert "Broken.name is 'broken-name', registered as 'broken'" in text
    assert "config field 'width' has no default" in text
    assert "dataset 'Bad Name': names are lower case" in text
    assert "factory(root, **options)" in text
    with pytest.raises(AssertionError, match="plugin contract broken"):
        assert_plugin_contract(BrokenPlugin(), name="broken-plugin")


def test_a_config_class_that_is_not_frozen_is_refused() -> None:
    from reid_core.testing import check_config_class

    assert check_config_class(BaselineConfig, "baseline") == []
    problems = check_config_class(attrs.define(type("Mutable", (), {"__annotations__": {"x": "int"}, "x": 1})), "m")
    assert problems == ["m: config_class Mutable is not frozen (use @attrs.frozen)"]


@pytest.mark.slow
def test_run_method_smoke_trains_interrupts_resumes_and_reevaluates(reid_smoke: Any, tmp_path: Path) -> None:
    result = reid_smoke("baseline", "market", sets=["baseline.epochs=2", "baseline.width=8"])  # the fixture
    assert result.output_dir == tmp_path / "smoke-baseline"
    assert result.resumed and len(result.history) == 2
    assert set(result.metrics) == {"market"}
    assert result.reevaluated["market"]["mAP"] == pytest.approx(result.metrics["market"]["last"]["mAP"], abs=1e-3)
    assert "resuming" in (result.output_dir / "log.txt").read_text()


def test_the_fixtures_come_from_the_entry_point_or_from_pytest_plugins(tmp_path: Path) -> None:
    """A third-party suite sees the fixtures through the pytest11 entry point; with it turned off
    (-p no:reid) they are missing, and ``pytest_plugins`` in a conftest brings them back."""
    import os
    import subprocess
    import sys

    (tmp_path / "test_third_party.py").write_text(
        "def test_it(reid_tiny_dataset):\n"
        "    assert reid_tiny_dataset.__name__ == 'tiny_dataset'\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def pytest(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(tmp_path)]
        return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    assert pytest().returncode == 0
    off = pytest("-p", "no:reid")
    assert off.returncode != 0 and "fixture 'reid_tiny_dataset' not found" in off.stdout
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["reid_core.testing.pytest_plugin"]\n')
    on = pytest("-p", "no:reid")
    assert on.returncode == 0, on.stdout[-2000:]
