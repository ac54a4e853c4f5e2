"""``reid evaluate-features``: JSON and table output, distmat input, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from reid_core.cli import build_cli
from reid_core.plugins import get_plugin_manager


@pytest.fixture(scope="module")
def cli():
    return build_cli(get_plugin_manager())


def toy_arrays():
    # the market toy case of test_eval_protocols: goods at positions 1 and 3 -> mAP 50
    return {
        "query_features": np.zeros((1, 1), np.float32),
        "gallery_features": np.array([[0.1], [0.2], [0.3], [0.4], [0.5]], np.float32),
        "query_pids": np.array([1]),
        "gallery_pids": np.array([1, 0, 1, 2, 1]),
        "query_camids": np.array([0]),
        "gallery_camids": np.array([0, 0, 1, 1, 2]),
    }


def save(tmp_path, name="features.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def test_json_output(cli, tmp_path):
    result = CliRunner().invoke(cli, ["evaluate-features", save(tmp_path, **toy_arrays()), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"protocol", "rank1", "rank5", "rank10", "rank20", "mAP", "mINP", "queries"} <= set(data)
    assert data["protocol"] == "market" and data["mAP"] == pytest.approx(50.0) and data["queries"] == 1


def test_table_output_and_options(cli, tmp_path):
    path = save(tmp_path, **toy_arrays())
    result = CliRunner().invoke(cli, ["evaluate-features", path, "--protocol", "regdb", "--metric", "cosine"])
    assert result.exit_code == 0, result.output
    header, values = result.output.splitlines()[:2]
    assert header.split() == ["protocol", "rank1", "rank5", "rank10", "rank20", "mAP", "mINP", "queries"]
    assert values.split()[0] == "regdb"
    trapezoid = CliRunner().invoke(cli, ["evaluate-features", path, "-o", "ap=trapezoid", "--json"])
    assert json.loads(trapezoid.output)["mAP"] == pytest.approx(
        100 * ((0 + 1 / 2) / 2 + (1 / 3 + 2 / 4) / 2) / 2
    )


def test_distmat_input(cli, tmp_path):
    arrays = toy_arrays()
    del arrays["query_features"], arrays["gallery_features"]
    arrays["distmat"] = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]], np.float32)
    path = save(tmp_path, **arrays)
    result = CliRunner().invoke(cli, ["evaluate-features", path, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["mAP"] == pytest.approx(50.0)
    arrays["distmat"] = np.zeros((1, 4), np.float32)
    bad = CliRunner().invoke(cli, ["evaluate-features", save(tmp_path, "bad.npz", **arrays)])
    assert bad.exit_code != 0 and "distmat has shape (1, 4)" in bad.output and "expected (1, 5)" in bad.output
    rerank = CliRunner().invoke(cli, ["evaluate-features", path, "--rerank"])
    assert rerank.exit_code != 0 and "--rerank needs query_features" in rerank.output


def test_clothes_arrays_reach_the_protocol(cli, tmp_path):
    arrays = toy_arrays()
    missing = CliRunner().invoke(cli, ["evaluate-features", save(tmp_path, **arrays), "-p", "cloth-changing"])
    assert missing.exit_code != 0 and "needs clothes ids" in missing.output
    arrays["query_clothes"] = np.array([3])
    arrays["gallery_clothes"] = np.array([3, 4, 3, 5, 6])  # item 2 (a good) wears the query's clothes
    result = CliRunner().invoke(
        cli, ["evaluate-features", save(tmp_path, **arrays), "-p", "cloth-changing", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["mAP"] == pytest.approx(100 * 1 / 3)  # only item 4, at position 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("gallery_camids"), "missing array 'gallery_camids'"),
        (lambda a: a.pop("query_features"), "missing array 'query_features'"),
        (
            lambda a: a.update(gallery_pids=np.array([1, 0, 1]), gallery_camids=np.array([0, 0, 1])),
            "gallery_features has shape (5, 1) but gallery_pids has shape (3,)",
        ),
        (
            lambda a: a.update(gallery_pids=np.array([1, 0, 1])),
            "gallery_camids has shape (5,) but gallery_pids",
        ),
        (lambda a: a.update(query_camids=np.array([0, 1])), "query_camids has shape (2,) but query_pids"),
        (lambda a: a.update(query_features=np.zeros((1, 3), np.float32)), "query_features are 3-d"),
        (lambda a: a.update(query_pids=np.array([1.5])), "'query_pids' must be a 1-D integer array"),
    ],
)
def test_bad_arrays_are_clear_errors(cli, tmp_path, change, message):
    arrays = toy_arrays()
    change(arrays)
    result = CliRunner().invoke(cli, ["evaluate-features", save(tmp_path, **arrays)])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_unknown_protocol_suggests(cli, tmp_path):
    result = CliRunner().invoke(cli, ["evaluate-features", save(tmp_path, **toy_arrays()), "-p", "marke"])
    assert result.exit_code != 0 and "market" in result.output


def test_reid_eval_prints_on_rank_zero_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under torchrun every rank runs ``reid eval``; only rank 0 prints the results."""
    import reid_core.engine as engine
    from reid_core import preflight

    monkeypatch.setattr(preflight, "check_eval", lambda *a, **k: None)  # no checkpoint file needed here
    monkeypatch.setattr(engine, "evaluate_checkpoint", lambda *a, **k: {"market": {"rank1": 50.0}})
    args = ["eval", "baseline", "--checkpoint", "x.pt", "--device", "cpu", "--json"]
    monkeypatch.setenv("RANK", "1")
    assert CliRunner().invoke(build_cli(get_plugin_manager()), args).output == ""
    monkeypatch.setenv("RANK", "0")
    assert json.loads(CliRunner().invoke(build_cli(get_plugin_manager()), args).output) == {"market": {"rank1": 50.0}}
