"""SYSU-MM01 protocol: gallery draws, the camera-3 / camera-2 rule, deduplicated CMC, trial averaging."""

from __future__ import annotations

import random

import numpy as np
import pytest

from reid_core.evaluation import EvaluationError, SplitLabels, pairwise_distance
from reid_core.evaluation.reference import reference_evaluate
from reid_core.evaluation.sysu import SYSUProtocol, draw_gallery

# camids are 0-based: SYSU camera k has camid k - 1 (visible 1,2,4,5 -> 0,1,3,4; infrared 3,6 -> 2,5)


def pool(n_ids=6, per_group=3):
    """A visible gallery pool: every id in cameras 1, 2, 4, 5 with ``per_group`` images each, sorted."""
    pids = np.repeat(np.arange(1, n_ids + 1), 4 * per_group)
    camids = np.tile(np.repeat([0, 1, 3, 4], per_group), n_ids)
    return SplitLabels(pids, camids, modality=np.zeros(len(pids), int))


def test_single_shot_draw_is_agw_random_seed_trial():
    gallery = pool()
    for trial in range(3):
        chosen = draw_gallery(gallery, "all", 1, trial)
        # AGW: random.seed(trial); for each id (sorted) and camera: random.choice(sorted files)
        random.seed(trial)
        expected = []
        for pid in range(1, 7):
            for cam in (0, 1, 3, 4):
                members = np.flatnonzero((gallery.pids == pid) & (gallery.camids == cam)).tolist()
                expected.append(random.choice(members))
        assert chosen.tolist() == sorted(expected)
    assert draw_gallery(gallery, "all", 1, 0).tolist() != draw_gallery(gallery, "all", 1, 1).tolist()


def test_indoor_and_multi_shot_draws():
    gallery = pool(per_group=12)
    indoor = draw_gallery(gallery, "indoor", 1, 0)
    assert set(gallery.camids[indoor]) == {0, 1} and len(indoor) == 6 * 2
    multi = draw_gallery(gallery, "all", 10, 0)
    assert len(multi) == 6 * 4 * 10
    small = draw_gallery(pool(per_group=3), "all", 10, 0)
    assert len(small) == 6 * 4 * 3  # a group smaller than the shot count is taken whole
    infrared = SplitLabels([1, 1], [2, 5])
    with pytest.raises(EvaluationError, match="no visible image"):
        draw_gallery(infrared, "all", 1, 0)


def test_camera3_query_drops_camera2_gallery_whatever_the_pid():
    # query pid 1 from camera 3 (camid 2). Gallery (one trial, everything drawn: one image per group):
    #   pid 1 cam 2 (camid 1) d=0.1 -> removed     pid 2 cam 2 (camid 1) d=0.2 -> removed
    #   pid 3 cam 1 (camid 0) d=0.3 -> negative    pid 1 cam 1 (camid 0) d=0.4 -> good, position 1
    gallery = SplitLabels([1, 2, 3, 1], [1, 1, 0, 0])
    dist = np.array([[0.1, 0.2, 0.3, 0.4]], np.float32)
    evaluator = SYSUProtocol("all", trials=1)
    result = evaluator.evaluate_distance(dist, SplitLabels([1], [2]), gallery)
    assert result["rank1"] == 0.0 and result["rank5"] == 100.0
    assert result["mAP"] == pytest.approx(50.0)
    # from camera 6 (camid 5) nothing is removed: the good at position 0 counts
    result6 = evaluator.evaluate_distance(dist, SplitLabels([1], [5]), gallery)
    assert result6["rank1"] == 100.0


def test_cmc_is_identity_deduplicated_but_map_is_not():
    # multi-shot: pid 2 appears twice before the match. Ranked: pid2, pid2, pid1(good)
    gallery = SplitLabels([2, 2, 1], [0, 0, 0])
    dist = np.array([[0.1, 0.2, 0.3]], np.float32)
    result = SYSUProtocol("all", trials=1, shots=10).evaluate_distance(dist, SplitLabels([1], [5]), gallery)
    assert result["rank1"] == 0.0 and result["rank5"] == 100.0
    # image-level: good at position 2 -> AP 1/3; deduplicated list [2, 1] -> rank-2 hit
    assert result["mAP"] == pytest.approx(100 / 3)
    assert result["mINP"] == pytest.approx(100 / 3)


@pytest.mark.parametrize("mode", ["all", "indoor"])
@pytest.mark.parametrize("shots", [1, 10])
def test_random_trials_match_the_per_query_reference(mode, shots):
    rng = np.random.default_rng(7)
    gallery = pool(n_ids=20, per_group=4)
    query = SplitLabels(rng.integers(1, 21, 150), rng.choice([2, 5], 150))
    qf = rng.standard_normal((150, 8)).astype(np.float32)
    gf = rng.standard_normal((len(gallery), 8)).astype(np.float32)
    evaluator = SYSUProtocol(mode, trials=3, shots=shots, seed_base=5, seed_step=2, block_size=40)
    result = evaluator.evaluate(qf, gf, query, gallery)
    assert result["trials"] == 3
    refs = []
    for seed in (5, 7, 9):
        chosen = draw_gallery(gallery, mode, shots, seed)
        dist = pairwise_distance(qf, gf[chosen])
        g_pids, g_cams = gallery.pids[chosen], gallery.camids[chosen]

        def masks(i, g_pids=g_pids, g_cams=g_cams):
            return g_pids == query.pids[i], (g_cams == 1) & (query.camids[i] == 2)

        refs.append(
            reference_evaluate(lambda i, d=dist: d[i], 150, masks, gallery_pids=g_pids, dedup_cmc=True)
        )
    for key in ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP"):
        assert result[key] == pytest.approx(np.mean([r[key] for r in refs]), abs=1e-9), key


def test_registered_factory_options():
    from reid_core.plugins import ReidPluginManager

    registry = ReidPluginManager(entry_points=False).registry("evaluators")
    evaluator = registry.create("sysu-indoor", trials="2", seed_base="2019", seed_step="33", shots="10")
    assert evaluator.mode == "indoor" and evaluator.trial_seeds() == [2019, 2052] and evaluator.shots == 10


def test_cmc_curve_is_averaged_over_trials():
    gallery = SplitLabels([2, 2, 1], [0, 0, 0])
    dist = np.array([[0.1, 0.2, 0.3]], np.float32)
    result = SYSUProtocol("all", trials=2, shots=10, cmc_curve=True).evaluate_distance(
        dist, SplitLabels([1], [5]), gallery
    )
    assert result["cmc"] == pytest.approx([0.0, 100.0, 100.0])
