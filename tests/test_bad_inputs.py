"""Bad input never costs a user their work (issue 17): one case per bad input.

Each case runs ``reid`` in a scratch folder holding a user's data set (and, for some, a trained
checkpoint or a folder of their own), then asserts the exit status, that the one-line ``Error:``
names the culprit and the fix, that no traceback was printed, and that no file the user had was
changed and none was created.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from bad_input_support import MARKET, QB, Q, invoke, snapshot

from reid_core import config as cfg
from reid_core.methods.baseline import Baseline
from reid_core.resolve import resolve_run_config

EVAL = ["eval", "baseline", "--dataset", "market1501", "--root", "base", "--profile", "quick", "--device", "cpu"]


# -- setups: what the user has before the bad command ---------------------------------------------
def write(path: str, data: bytes | str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))

    return setup


def corrupt_first(split: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        first = sorted(p for p in (root / "base" / MARKET / split).glob("*.jpg") if not p.name.startswith("-1"))[0]
        first.write_bytes(b"this is not a jpeg")

    return setup


def baseline_config_text(root: Path, **sets: Any) -> str:
    items = ["baseline.epochs=1", "data.batch_size=8", *(f"{k}={v}" for k, v in sets.items())]
    config = resolve_run_config(Baseline, dataset="market1501", root="base", profile="quick", sets=items)
    return cfg.dumps_toml(config)


def foreign_checkpoint(method: str, dataset: str, **sets: Any) -> Callable[[Path], None]:
    """``run/`` holds a baseline run whose ``last.pt`` was written by another run."""

    def setup(root: Path) -> None:
        (root / "run" / "checkpoints").mkdir(parents=True)
        (root / "run" / "config.toml").write_text(baseline_config_text(root))
        state = torch.load(root / "trained" / "checkpoints" / "last.pt", weights_only=True)
        state.update(method=method, dataset=dataset)
        if sets:
            state["config_digest"] = "0123456789abcdef"
        torch.save(state, root / "run" / "checkpoints" / "last.pt")

    return setup


def edited_checkpoint(edit: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        path = root / "trained" / "checkpoints" / "best.pt"
        state = torch.load(path, weights_only=True)
        edit(state)
        torch.save(state, path)

    return setup


def nan_weights(state: dict[str, Any]) -> None:
    state["modules"]["model"]["neck.bn.weight"][:2] = float("nan")


def wrong_shape(state: dict[str, Any]) -> None:
    state["modules"]["model"]["neck.bn.weight"] = torch.ones(7)


def npz(path: str, scale: float) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        rng = np.random.default_rng(0)
        np.savez(
            root / path,
            query_features=(rng.standard_normal((3, 4)) * scale).astype(np.float32),
            gallery_features=(rng.standard_normal((5, 4)) * scale).astype(np.float32),
            query_pids=np.array([0, 1, 2]), gallery_pids=np.array([0, 1, 2, 0, 1]),
            query_camids=np.zeros(3, dtype=np.int64), gallery_camids=np.ones(5, dtype=np.int64),
        )

    return setup


def chain(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        for step in steps:
            step(root)

    return setup


def nothing(root: Path) -> None:
    return None


CKPT = "trained/checkpoints/best.pt"

#: id -> (setup, argv, exit code, fragments the message must hold: the culprit and the fix)
CASES: dict[str, tuple[Callable[[Path], None], list[str], int, tuple[str, ...]]] = {
    # 1. a fractional value for an integer key
    "1-set-epochs-fraction": (nothing, ["run", "baseline", *Q, "--set", "baseline.epochs=1.5", "--output", "out"],
                              1, ("baseline.epochs", "must be an integer", "whole number")),
    "1-set-batch-fraction": (nothing, ["run", "baseline", *Q, "--set", "data.batch_size=8.9", "--output", "out"],
                             1, ("data.batch_size", "must be an integer")),
    "1-toml-epochs-fraction": (write("my.toml", "[baseline]\nepochs = 1.5\n"),
                               ["run", "baseline", *QB, "--config", "my.toml", "--output", "out"],
                               1, ("baseline.epochs", "must be an integer", "my.toml")),
    # 2. misspelt metric and impossible batches, before the run folder exists
    "2-best-metric-typo": (nothing, ["run", "baseline", *Q, "--set", "train.best_metric=market/rank2", "--output", "out"],
                           1, ("train.best_metric", "market/rank2", "Did you mean 'market/rank20'")),
    "2-batch-not-multiple-of-k": (nothing, ["run", "baseline", *Q, "--set", "data.batch_size=6", "--output", "out"],
                                  1, ("data.batch_size (6)", "data.num_instances (4)", "--set data.batch_size=")),
    "2-too-few-identities": (nothing, ["run", "baseline", *Q, "--set", "data.batch_size=64", "--output", "out"],
                             1, ("not enough identities", "data.batch_size")),
    # 3. finite but huge features
    "3-huge-features": (npz("huge.npz", 1e19), ["evaluate-features", "huge.npz"],
                        1, ("features are too large", "L2-normalise")),
    # 4. a checkpoint of another run in the run folder
    "4-resume-other-method": (foreign_checkpoint("icsr", "market1501"),
                              ["run", "baseline", "--output", "run", "--resume"],
                              1, ("belongs to another run", "'icsr'", "'baseline'", "another --output")),
    "4-resume-other-dataset": (foreign_checkpoint("baseline", "prcc"),
                               ["run", "baseline", "--output", "run", "--resume"],
                               1, ("belongs to another run", "'prcc'", "'market1501'", "dataset")),
    "4-resume-other-config": (foreign_checkpoint("baseline", "market1501", lr=1),
                              ["run", "baseline", "--output", "run", "--resume"],
                              1, ("belongs to another run", "config digest 0123456789abcdef", "config_digest")),
    # 5. an output folder with the user's own files
    "5-output-has-metrics": (write("mine/metrics.json", "{}"), ["run", "baseline", *Q, "--output", "mine"],
                             1, ("'mine'", "not a reid run folder", "metrics.json", "choose a new or empty --output")),
    "5-output-has-checkpoints": (write("mine/checkpoints/model.pt", b"weights"), ["run", "baseline", *Q, "--output", "mine"],
                                 1, ("'mine'", "checkpoints", "choose a new or empty --output")),
    "5-output-other-method": (write("mine/config.toml", "[data]\n[train]\n[icsr]\n"), ["run", "baseline", *Q, "--output", "mine"],
                              1, ("holds a run of method 'icsr'", "another --output")),
    "5-output-finished-run": (nothing, ["run", "baseline", *Q, "--output", "trained"],
                              1, ("already holds a run", "--resume")),
    # 6. synthetic images into an existing data set
    "6-synth-into-dataset": (nothing, ["synth", "--like", "market1501", "base", "--ids", "4"],
                             1, ("'base' is not empty", "--force")),
    "6-synth-force-no-overwrite": (nothing, ["synth", "--like", "market1501", "base", "--ids", "4", "--force"],
                                   1, ("already exists", "would be overwritten", "nothing was written")),
    # 7. broken test images: found before training
    "7-corrupt-query-image": (corrupt_first("query"), ["run", "baseline", *Q, "--output", "out"],
                              1, ("image file", "query split", "re-extract")),
    "7-corrupt-gallery-image-eval": (corrupt_first("bounding_box_test"), [*EVAL, "--checkpoint", CKPT],
                                     1, ("image file", "gallery split", "re-extract")),
    # 8. what used to be a traceback
    "8-toml-batch-not-multiple": (write("my.toml", "[data]\nbatch_size = 10\n"),
                                  ["run", "baseline", *QB, "--config", "my.toml", "--output", "out"],
                                  1, ("data.batch_size (10)", "multiple of data.num_instances")),
    "8-config-not-utf8": (write("my.toml", b"[baseline]\nepochs = 1 # \xff\xfe\n"),
                          ["run", "baseline", *Q, "--config", "my.toml", "--output", "out"],
                          1, ("my.toml", "not UTF-8", "save it as UTF-8")),
    "8-lr-nan": (nothing, ["run", "baseline", *Q, "--set", "baseline.lr=nan", "--output", "out"],
                 1, ("baseline.lr", "finite number")),
    "8-broken-config-on-resume": (chain(write("trained/config.toml", "[data\nbroken"),),
                                  ["run", "baseline", "--output", "trained", "--resume"],
                                  1, ("config.toml", "not valid TOML", "restore")),
    "8-npy-to-evaluate-features": (lambda root: np.save(root / "feats.npy", np.zeros((3, 4))),
                                   ["evaluate-features", "feats.npy"], 1, ("feats.npy", "single array", "numpy.savez")),
    "8-checkpoint-wrong-shape": (edited_checkpoint(wrong_shape), [*EVAL, "--checkpoint", CKPT],
                                 1, ("best.pt", "model.neck.bn.weight", "(7,)", "--dataset")),
    "8-checkpoint-empty": (write("empty.pt", b""), [*EVAL, "--checkpoint", "empty.pt"],
                           1, ("empty.pt", "is empty (0 bytes)", "another checkpoint")),
    "8-output-proc": (nothing, ["run", "baseline", *Q, "--output", "/proc/x"],
                      1, ("/proc/x", "cannot be written", "choose a folder")),
    "8-output-under-a-file": (write("afile", "x"), ["run", "baseline", *Q, "--output", "afile/sub"],
                              1, ("afile", "is a file", "another --output")),
    "8-synth-unwritable": (nothing, ["synth", "--like", "market1501", "/proc/x", "--ids", "4"],
                           1, ("/proc/x", "cannot write", "choose a folder")),
    # 11. NaN weights name the checkpoint
    "11-nan-weights": (edited_checkpoint(nan_weights), [*EVAL, "--checkpoint", CKPT],
                       1, ("best.pt", "non-finite weights", "model.neck.bn.weight", "earlier checkpoint")),
    # 12. plugin names
    "12-disable-unknown-plugin": (nothing, ["--disable-plugin", "nosuch", "list", "methods"],
                                  1, ("'nosuch'", "no plugin has that name", "reid plugins")),
    "12-method-of-disabled-plugin": (nothing, ["--disable-plugin", "core.methods", "run", "baseline"],
                                     1, ("'baseline'", "plugin 'core.methods'", "disabled by --disable-plugin")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case: str, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup, argv, code, needles = CASES[case]
    setup(work)
    disabled = [argv[i + 1] for i, a in enumerate(argv) if a == "--disable-plugin"]
    if disabled:  # main() reads --disable-plugin before click runs; do the same here
        from reid_core.plugins import ReidPluginManager, set_plugin_manager

        set_plugin_manager(ReidPluginManager(disabled=disabled))
    before = snapshot(work)
    result = invoke(*argv)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    assert snapshot(work) == before, "a file of the user was created, changed or removed"


def test_unknown_plugin_in_the_environment_is_an_error(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REID_DISABLE_PLUGINS", "core.methds")
    from reid_core.plugins import set_plugin_manager

    set_plugin_manager(None)
    result = invoke("list", "methods")
    assert result.exit_code == 1
    assert "REID_DISABLE_PLUGINS names 'core.methds'" in result.output and "'core.methods'" in result.output


def test_reid_debug_shows_the_traceback(work: Path) -> None:
    plain = invoke("run", "baseline", *Q, "--set", "baseline.lr=nan", "--output", "out")
    debug = invoke("run", "baseline", *Q, "--set", "baseline.lr=nan", "--output", "out", env={"REID_DEBUG": "1"})
    assert plain.exit_code == debug.exit_code == 1
    assert "Traceback" not in plain.output and "Traceback" in debug.output
    assert "Error: baseline.lr must be a finite number" in debug.output
