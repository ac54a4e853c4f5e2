"""Invariants of the cross-modality protocols from the IV-ReID specification (section 7, "Metrics")."""

from __future__ import annotations

import numpy as np
import pytest

from reid_core.evaluation.base import SplitLabels
from reid_core.plugins import get_registry


def create(name: str, **options: object) -> object:
    return get_registry("evaluators").create(name, **options)


def _one_query(positive_ranks: tuple[int, ...], gallery: int = 8) -> dict[str, float]:
    """One query whose true matches sit at the given 1-based ranks of a ``gallery``-long list."""
    pids = np.array([0 if r + 1 in positive_ranks else 1 + r for r in range(gallery)])
    distmat = np.arange(1, gallery + 1, dtype=np.float64)[None, :]
    query = SplitLabels(np.array([0]), np.array([1]))
    return create("regdb").evaluate_distance(distmat, query, SplitLabels(pids, np.zeros(gallery)))


def test_ap_and_inp_at_known_ranks() -> None:
    first = _one_query((1, 2))
    assert first["mAP"] == pytest.approx(100.0) and first["mINP"] == pytest.approx(100.0)
    spread = _one_query((1, 3))
    assert spread["mAP"] == pytest.approx(100 * (1 + 2 / 3) / 2) and spread["mINP"] == pytest.approx(100 * 2 / 3)
    late = _one_query((5, 6))  # mINP can exceed mAP: do not assert mINP <= mAP
    assert late["mAP"] == pytest.approx(100 * (1 / 5 + 2 / 6) / 2, abs=1e-6)
    assert late["mINP"] == pytest.approx(100 / 3) and late["mINP"] > late["mAP"]


def _sysu_toy(seed: int = 0) -> tuple[np.ndarray, np.ndarray, SplitLabels, SplitLabels]:
    rng = np.random.default_rng(seed)
    g_pids = np.repeat(np.arange(6), 8)
    g_cams = np.tile(np.repeat([0, 1, 3, 4], 2), 6)  # visible cameras 1, 2, 4, 5
    q_pids = np.repeat(np.arange(6), 2)
    q_cams = np.full(len(q_pids), 5)  # camera 6: nothing is removed
    query, gallery = rng.normal(size=(len(q_pids), 8)), rng.normal(size=(len(g_pids), 8))
    return query, gallery, SplitLabels(q_pids, q_cams), SplitLabels(g_pids, g_cams, modality=np.zeros(len(g_pids)))


def test_deduplicated_cmc_is_at_least_the_image_level_cmc() -> None:
    query, gallery, q, g = _sysu_toy()
    multi = create("sysu-all", trials=1, shots=10).evaluate(query, gallery, q, g)  # every image: the whole pool
    image_level = create("regdb").evaluate(query, gallery, q, g)
    for rank in ("rank1", "rank5"):
        assert multi[rank] >= image_level[rank] - 1e-9
    assert multi["mAP"] == pytest.approx(image_level["mAP"])  # AP is image-level in both


def test_trial_average_is_the_mean_of_the_trials() -> None:
    query, gallery, q, g = _sysu_toy(1)
    together = create("sysu-all", trials=3, seed_base=2019, seed_step=33).evaluate(query, gallery, q, g)
    alone = [create("sysu-all", trials=1, seed_base=2019 + 33 * t).evaluate(query, gallery, q, g) for t in range(3)]
    for name in ("rank1", "rank10", "mAP", "mINP"):
        assert together[name] == pytest.approx(float(np.mean([a[name] for a in alone])))
    assert together["trials"] == 3


def test_scaling_and_euclidean_versus_cosine_on_unit_vectors() -> None:
    query, gallery, q, g = _sysu_toy(2)
    unit_q = query / np.linalg.norm(query, axis=1, keepdims=True)
    unit_g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    regdb = create("regdb")
    euclid = regdb.evaluate(unit_q, unit_g, q, g, metric="euclidean")
    cosine = regdb.evaluate(3.0 * query, 0.5 * gallery, q, g, metric="cosine")
    for name in ("rank1", "rank5", "mAP", "mINP"):
        assert euclid[name] == pytest.approx(cosine[name])


def test_regdb_swap_on_a_symmetric_toy_and_nothing_removed() -> None:
    rng = np.random.default_rng(3)
    feats = rng.normal(size=(6, 4))
    labels = SplitLabels(np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 0, 1, 0, 1]))
    regdb = create("regdb")
    forward = regdb.evaluate(feats, feats, labels, labels)
    assert forward["rank1"] == pytest.approx(100.0) and forward["skipped"] == 0  # the query itself is kept
    other = rng.normal(size=(6, 4))
    a_to_b = regdb.evaluate(feats, other, labels, labels)
    b_to_a = regdb.evaluate(other, feats, labels, labels)
    assert a_to_b["queries"] == b_to_a["queries"] == 6
    transposed = regdb.evaluate_distance(
        np.linalg.norm(other[:, None] - feats[None], axis=2), labels, labels
    )
    assert b_to_a["mAP"] == pytest.approx(transposed["mAP"])
