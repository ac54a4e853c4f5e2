"""``reid run --trials``: parsing, per-trial configs and the mean / std in the parent's metrics.json."""

from __future__ import annotations

import statistics

import pytest

from reid_core.config import ConfigError
from reid_core.engine.trials import aggregate, parse_trials, trial_config, trial_option
from reid_core.methods.baseline import Baseline
from reid_core.resolve import resolve_run_config


def test_parse_trials() -> None:
    assert parse_trials("1-10") == list(range(1, 11))
    assert parse_trials("3") == [3]
    assert parse_trials("1,4,7-9,4") == [1, 4, 7, 8, 9]
    for bad in ("0-3", "5-2", "a", "", "1-", "2-x"):
        with pytest.raises(ConfigError, match="--trials"):
            parse_trials(bad)


def test_trial_config_sets_the_option_or_shifts_the_seed() -> None:
    assert trial_option("regdb") == "trial" and trial_option("synthetic") is None
    config = resolve_run_config(Baseline, dataset="regdb", root="/nowhere", seed=5)
    third = trial_config(config, 3, "trial")
    assert third.data.options == {"trial": "3"} and third.train.seed == 5
    shifted = trial_config(config, 3, None)
    assert shifted.train.seed == 7 and shifted.data.options == {}


def test_aggregate_is_the_arithmetic_mean_and_sample_std() -> None:
    per_trial = {
        1: {"v2t": {"last": {"rank1": 10.0, "mAP": 5.0, "queries": 4}, "best": {"rank1": 20.0}, "best_epoch": 1}},
        2: {"v2t": {"last": {"rank1": 30.0, "mAP": 7.0, "queries": 4}, "best": {"rank1": 40.0}, "best_epoch": 2}},
        3: {"v2t": {"last": {"rank1": 50.0, "mAP": 9.0, "queries": 4}, "best": {"rank1": 60.0}, "best_epoch": 1}},
    }
    out = aggregate(per_trial)["v2t"]
    assert out["trials"] == [1, 2, 3]
    assert out["last"]["rank1"] == pytest.approx(30.0) and out["last"]["mAP"] == pytest.approx(7.0)
    assert out["last_std"]["rank1"] == pytest.approx(statistics.stdev([10.0, 30.0, 50.0]))
    assert out["best"]["rank1"] == pytest.approx(40.0)
    assert out["per_trial"]["2"]["best_epoch"] == 2
    assert aggregate({4: per_trial[1]})["v2t"]["last_std"]["rank1"] == 0.0
