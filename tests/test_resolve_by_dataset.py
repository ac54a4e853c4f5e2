"""A profile's ``by_dataset`` entries: applied after the profile for the run's data set only, below
the TOML file, ``--set`` and the flags."""

from __future__ import annotations

from pathlib import Path

from reid_core.methods.baseline import Baseline
from reid_core.resolve import resolve_run_config


class PerDataset(Baseline):
    name = "baseline"
    profiles = {
        "paper": {
            "baseline": {"margin": 0.5},
            "by_dataset": {
                "regdb": {"baseline": {"margin": 0.2}, "data": {"options": {"direction": "t2v"}}},
                "market1501": {"baseline": {"epochs": 7}},
            },
        }
    }


def test_by_dataset_follows_the_chosen_data_set(tmp_path: Path) -> None:
    regdb = resolve_run_config(PerDataset, dataset="regdb", root=str(tmp_path), profile="paper")
    assert regdb.baseline.margin == 0.2 and regdb.data.options == {"direction": "t2v"}
    assert regdb.baseline.epochs == Baseline.config_class().epochs
    market = resolve_run_config(PerDataset, dataset="market1501", root=str(tmp_path), profile="paper")
    assert (market.baseline.margin, market.baseline.epochs, market.data.options) == (0.5, 7, {})
    via_set = resolve_run_config(PerDataset, profile="paper", sets=["data.dataset=regdb", "baseline.margin=0.1"])
    assert via_set.baseline.margin == 0.1 and via_set.data.options == {"direction": "t2v"}
    toml = tmp_path / "run.toml"
    toml.write_text('[data]\ndataset = "market1501"\n')
    from_file = resolve_run_config(PerDataset, profile="paper", config_file=str(toml))
    assert from_file.baseline.epochs == 7
