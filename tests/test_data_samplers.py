"""Samplers: P x K invariants, epoch lengths, determinism, disjoint ranks, camera and modality rules."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from reid_core.data import (
    CameraAwareSampler,
    ModalityBalancedSampler,
    RandomIdentitySampler,
    RandomOrderSampler,
    build_sampler,
)
from reid_core.datasets import DatasetError


def _pids(seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 12, size=20)
    pids = [pid for pid, n in enumerate(counts) for _ in range(n)]
    return [*pids, -1, -1, -1]


def _chunks(indices: list[int], k: int) -> list[list[int]]:
    return [indices[i : i + k] for i in range(0, len(indices), k)]


def test_identity_chunks_length_and_determinism() -> None:
    pids = _pids()
    k, batch = 4, 16
    sampler = RandomIdentitySampler(pids, batch, k, seed=3)
    counts = Counter(p for p in pids if p != -1)
    n_chunks = sum(max(1, n // k) for n in counts.values())
    assert len(sampler) == n_chunks // (batch // k) * batch
    indices = list(sampler)
    assert len(indices) == len(sampler) and len(indices) % batch == 0
    for chunk in _chunks(indices, k):
        assert len({pids[i] for i in chunk}) == 1 and pids[chunk[0]] != -1
    # ids with >= K images are never repeated inside their chunks
    assert all(len(set(c)) == k for c in _chunks(indices, k) if counts[pids[c[0]]] >= k)
    assert list(RandomIdentitySampler(pids, batch, k, seed=3)) == indices
    sampler.set_epoch(1)
    assert list(sampler) != indices
    sampler.set_epoch(0)
    assert list(sampler) == indices


def test_identity_disjoint_ranks_same_length() -> None:
    pids = _pids(1)
    full = RandomIdentitySampler(pids, 8, 4, seed=5)
    ranks = [RandomIdentitySampler(pids, 8, 4, seed=5, rank=r, world_size=2) for r in range(2)]
    for s in ranks:
        s.set_epoch(2)
    full.set_epoch(2)
    parts = [list(s) for s in ranks]
    assert len(parts[0]) == len(parts[1]) == len(ranks[0]) > 0
    chunks = [_chunks(p, 4) for p in parts]
    as_sets = [{tuple(c) for c in cs} for cs in chunks]
    assert not as_sets[0] & as_sets[1]
    # the ranks deal the single-process order round-robin
    global_chunks = _chunks(full.indices(), 4)
    assert chunks[0][:2] == [global_chunks[0], global_chunks[2]]
    assert chunks[1][:2] == [global_chunks[1], global_chunks[3]]


def test_set_start_skips_once() -> None:
    sampler = RandomIdentitySampler(_pids(), 8, 4, seed=0)
    full = list(sampler)
    sampler.set_start(8)
    assert len(sampler) == len(full) - 8
    assert list(sampler) == full[8:]
    assert list(sampler) == full


def test_identity_errors() -> None:
    with pytest.raises(ValueError, match="multiple of num_instances"):
        RandomIdentitySampler([0, 0, 1, 1], 6, 4)
    with pytest.raises(DatasetError, match="not enough identities"):
        RandomIdentitySampler([0, 0, 1, 1], 32, 4)


def test_too_few_identities_is_a_user_error_with_the_numbers_and_the_fix() -> None:
    # 3 identities (the -1 outlier never counts), one chunk of K=4 each; P x K = 4 x 4 needs 4 chunks
    pids = [0] * 4 + [1] * 4 + [2] * 3 + [-1] * 5
    with pytest.raises(DatasetError) as info:
        RandomIdentitySampler(pids, 16, 4)
    message = str(info.value)
    assert not isinstance(info.value, ValueError)
    assert "RandomIdentitySampler" in message and "3 usable identities" in message
    assert "P x K = 4 x 4 = 16" in message and "data.batch_size=" in message and "data.num_instances=" in message
    with pytest.raises(DatasetError, match=r"needs 4 distinct identities over 1 rank"):
        RandomIdentitySampler(pids, 16, 4, distinct_pids=True)
    with pytest.raises(DatasetError, match=r"needs 4 groups of K over 2 rank"):
        RandomIdentitySampler(pids, 8, 4, world_size=2)
    with pytest.raises(DatasetError, match=r"ModalityBalancedSampler: not enough identities.*1 usable identities"):
        ModalityBalancedSampler([0, 0, 1, 1], [0, 1, 0, 0], 8, 2)
    assert len(RandomIdentitySampler(pids, 12, 4)) == 12  # 3 chunks fill exactly one batch


def test_camera_sampler_rules() -> None:
    #        id 0: 3 cams, 6 images | id 1: one camera, 3 images | id 2: single image | id 3 outlier
    pids = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, -1, -1]
    cams = [0, 0, 1, 1, 2, 2, 0, 0, 0, 1, 0, 1]
    sampler = CameraAwareSampler(pids, cams, num_instances=4, seed=0)
    for epoch in range(5):
        sampler.set_epoch(epoch)
        blocks = sampler._blocks(np.random.default_rng([0, epoch]))
        assert sorted(pids[b[0]] for b in blocks) == [0, 1, 2]
        for block in blocks:
            pid = pids[block[0]]
            assert {pids[i] for i in block} == {pid}
            if pid == 0:
                assert len(block) == 4 and all(cams[i] != cams[block[0]] for i in block[1:])
                assert len(set(block[1:])) == 3  # 4 other-camera images >= K: no replacement
            elif pid == 1:
                assert len(block) == 4 and block[0] not in block[1:]  # fallback: other images, with replacement
            else:
                assert block == [9]  # a single image gives the anchor only
        assert sum(len(b) for b in blocks) == len(sampler)
    assert list(CameraAwareSampler(pids, cams, 4, seed=0)) == list(CameraAwareSampler(pids, cams, 4, seed=0))


def test_camera_sampler_ranks_equal_and_disjoint_blocks() -> None:
    pids = _pids(2)[:-3]
    cams = [i % 3 for i in range(len(pids))]
    parts = [list(CameraAwareSampler(pids, cams, 4, seed=1, rank=r, world_size=2)) for r in range(2)]
    assert len(parts[0]) == len(parts[1]) > 0


def test_modality_sampler() -> None:
    pids = [0] * 6 + [1] * 3 + [2] * 4 + [3] * 2
    mods = [0, 0, 0, 1, 1, 1] + [0, 1, 1] + ["visible"] * 4 + [0, 1]
    sampler = ModalityBalancedSampler(pids, mods, batch_size=4, num_instances=4, seed=0)
    codes = [{"visible": 0}.get(m, m) for m in mods]
    indices = list(sampler)
    # chunks: id 0 -> 1 (min(3,3)//2), id 1 -> 1 (1 visible, with replacement), id 3 -> 1; id 2 skipped
    assert len(indices) == len(sampler) == 12
    for chunk in _chunks(indices, 4):
        assert len({pids[i] for i in chunk}) == 1 and pids[chunk[0]] != 2
        assert [codes[i] for i in chunk] == [0, 0, 1, 1]
    ir_first = ModalityBalancedSampler(pids, mods, 4, 4, seed=0, infrared_first=True)
    assert all([codes[i] for i in c] == [1, 1, 0, 0] for c in _chunks(list(ir_first), 4))
    with pytest.raises(ValueError, match="even"):
        ModalityBalancedSampler(pids, mods, 3, 3)


def test_random_and_build_sampler() -> None:
    parts = [list(RandomOrderSampler(11, seed=4, rank=r, world_size=2)) for r in range(2)]
    assert len(parts[0]) == len(parts[1]) == 5 and not set(parts[0]) & set(parts[1])
    pids = _pids()
    assert isinstance(build_sampler("identity", pids=pids, batch_size=8, num_instances=4), RandomIdentitySampler)
    s = build_sampler("camera", pids=pids, camids=[0] * len(pids), batch_size=8, num_instances=4, seed=1)
    assert isinstance(s, CameraAwareSampler) and s.seed == 1
    assert sorted(build_sampler("random", pids=pids, batch_size=8, num_instances=4)) == list(range(len(pids)))
    with pytest.raises(ValueError, match="identity"):
        build_sampler("balanced", pids=pids, batch_size=8, num_instances=4)


def test_distributed_wrapper_matches_native_split() -> None:
    from reid_core.data import DistributedWrapper

    pids = _pids(3)
    for rank in range(2):
        native = RandomIdentitySampler(pids, 8, 4, seed=2, rank=rank, world_size=2)
        wrapped = DistributedWrapper(
            RandomIdentitySampler(pids, 8, 4, seed=2), rank=rank, world_size=2, block_size=4, batch_size=8
        )
        native.set_epoch(3)
        wrapped.set_epoch(3)
        assert list(wrapped) == list(native) and len(wrapped) == len(native)
    with pytest.raises(ValueError, match="rank"):
        DistributedWrapper([0, 1], rank=2, world_size=2)


def test_distinct_pids_per_batch_and_ranks() -> None:
    pids = _pids(4)
    for world_size in (1, 2):
        parts = []
        for rank in range(world_size):
            s = build_sampler(
                "identity-distinct", pids=pids, batch_size=12, num_instances=3, seed=0, rank=rank, world_size=world_size
            )
            s.set_epoch(1)
            indices = list(s)
            assert len(indices) == len(s) > 0 and len(indices) % 12 == 0
            for start in range(0, len(indices), 12):
                batch = indices[start : start + 12]
                chunk_pids = [pids[c[0]] for c in _chunks(batch, 3)]
                assert len(set(chunk_pids)) == 4  # P distinct identities
                assert all(len({pids[i] for i in c}) == 1 for c in _chunks(batch, 3))
            parts.append(indices)
        if world_size == 2:
            assert len(parts[0]) == len(parts[1])
            for a, b in zip(_chunks(parts[0], 12), _chunks(parts[1], 12)):
                assert not {pids[i] for i in a} & {pids[i] for i in b}  # a global batch has distinct ids
    mods = [i % 2 for i in range(len(pids))]
    m = build_sampler("modality-distinct", pids=pids, modalities=mods, batch_size=8, num_instances=4, seed=0)
    for start in range(0, len(m), 8):
        batch = m.indices()[start : start + 8]
        assert pids[batch[0]] != pids[batch[4]]
