"""The modality sampler with IV-ReID's options (spec section 7, "Sampler"): 4 infrared then 4
visible per identity, 8 distinct identities per batch of 64, and the ``too_few`` rule."""

from __future__ import annotations

import logging

import pytest

from reid_core.data.samplers import build_sampler
from reid_core.datasets.base import DatasetError


def _regdb_like(ids: int = 206, per: int = 10) -> tuple[list[int], list[str]]:
    pids, modalities = [], []
    for pid in range(ids):
        for modality in ("infrared", "visible"):
            pids += [pid] * per
            modalities += [modality] * per
    return pids, modalities


def _sampler(pids: list[int], modalities: list[str], seed: int = 0, **options: object) -> object:
    return build_sampler(
        "modality-distinct", pids=pids, modalities=modalities, batch_size=64, num_instances=8, seed=seed,
        options={"infrared_first": True, **options},
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regdb_epoch_layout(seed: int) -> None:
    pids, modalities = _regdb_like()
    indices = _sampler(pids, modalities, seed).indices()
    assert len(indices) % 64 == 0
    assert len(indices) // 64 == 51  # 412 chunks of 8 ids at a time: always 51 steps (the seed's count)
    assert len(set(indices)) == len(indices)  # no index twice in an epoch
    per_pid: dict[int, int] = {}
    for b in range(0, len(indices), 64):
        batch = indices[b : b + 64]
        blocks = [batch[i : i + 8] for i in range(0, 64, 8)]
        assert len({pids[blk[0]] for blk in blocks}) == 8
        for blk in blocks:
            assert len({pids[i] for i in blk}) == 1
            assert [modalities[i] for i in blk] == ["infrared"] * 4 + ["visible"] * 4
            per_pid[pids[blk[0]]] = per_pid.get(pids[blk[0]], 0) + 1
    assert max(per_pid.values()) <= 2


def test_too_few_error_names_the_identity_and_drop_counts(caplog: pytest.LogCaptureFixture) -> None:
    pids, modalities = _regdb_like(ids=20)
    short = [i for i, (p, m) in enumerate(zip(pids, modalities)) if p == 7 and m == "infrared"][3:]
    keep = [i for i in range(len(pids)) if i not in short]  # identity 7 keeps 3 infrared images
    pids, modalities = [pids[i] for i in keep], [modalities[i] for i in keep]
    with pytest.raises(DatasetError, match=r"identity 7 \(10 visible, 3 infrared\).*too_few=drop"):
        _sampler(pids, modalities, too_few="error")
    with caplog.at_level(logging.WARNING):
        dropped = _sampler(pids, modalities, too_few="drop")
    assert 7 not in dropped.groups and "1 identities with fewer than 4" in caplog.text
    assert 7 in _sampler(pids, modalities, too_few="replace").groups
    with pytest.raises(ValueError, match="too_few"):
        _sampler(pids, modalities, too_few="sometimes")
