"""The synthetic person generator: determinism, keypoints, infrared, argument checks."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from reid_core.datasets.synthetic import SyntheticWorld

SIZE = (64, 32)


def _digest(world: SyntheticWorld, jobs: list[tuple[int, int, int, str, int]], size=SIZE) -> str:
    h = hashlib.sha256()
    for pid, outfit, cam, modality, index in jobs:
        img, kp = world.render(pid, outfit, cam, modality, index=index, size=size)
        h.update(img.tobytes())
        h.update(repr(kp).encode())
    return h.hexdigest()


JOBS = [(p, p % 2, c, "infrared" if c == 2 else "visible", i) for p in range(4) for c in range(3) for i in range(2)]


def test_same_options_give_byte_identical_images() -> None:
    a = _digest(SyntheticWorld(num_ids=6, seed=3, outfits_per_id=2, num_cameras=4), JOBS)
    # a fresh world, asked in another order first, must not change anything
    other = SyntheticWorld(num_ids=6, seed=3, outfits_per_id=2, num_cameras=4)
    other.render(5, 1, 3, "visible", index=9, size=(128, 64))
    assert _digest(other, JOBS) == a


def test_golden_hash_is_stable_across_machines() -> None:
    """A fixed digest: a change of the drawing must bump cache.GENERATOR_VERSION and this value."""
    world = SyntheticWorld(num_ids=4, seed=0, outfits_per_id=2, num_cameras=3)
    assert _digest(world, JOBS) == GOLDEN


def test_seed_domain_pid_and_index_change_the_image() -> None:
    base = SyntheticWorld(num_ids=4, seed=0)
    img = base.render(0, 0, 0, index=0, size=SIZE)[0].tobytes()
    assert SyntheticWorld(num_ids=4, seed=1).render(0, 0, 0, index=0, size=SIZE)[0].tobytes() != img
    assert SyntheticWorld(num_ids=4, seed=0, domain="b").render(0, 0, 0, index=0, size=SIZE)[0].tobytes() != img
    assert base.render(1, 0, 0, index=0, size=SIZE)[0].tobytes() != img
    assert base.render(0, 0, 0, index=1, size=SIZE)[0].tobytes() != img


@pytest.mark.parametrize("size", [(128, 64), (64, 32), (32, 16)])
def test_image_size_mode_and_keypoints(size: tuple[int, int]) -> None:
    world = SyntheticWorld(num_ids=5, seed=0, outfits_per_id=2, num_cameras=6)
    for pid in range(5):
        for cam in range(6):
            img, kp = world.render(pid, pid % 2, cam, index=cam, size=size)
            assert img.mode == "RGB" and img.size == (size[1], size[0])
            arr = np.asarray(kp, dtype=float)
            assert arr.shape == (17, 3)
            assert set(arr[:, 2]) <= {0.0, 1.0, 2.0}
            inside = arr[:, 2] > 0
            assert np.all((arr[inside, 0] >= 0) & (arr[inside, 0] <= size[1]))
            assert np.all((arr[inside, 1] >= 0) & (arr[inside, 1] <= size[0]))
            # the skeleton stands upright: head above shoulders above hips above ankles
            assert arr[0, 1] < arr[5, 1] < arr[11, 1] < arr[15, 1]


def test_infrared_images_are_grey_and_visible_images_are_not() -> None:
    world = SyntheticWorld(num_ids=4, seed=0, num_cameras=2)
    for pid in range(4):
        ir = np.asarray(world.render(pid, 0, 1, "infrared", index=pid, size=SIZE)[0])
        assert np.array_equal(ir[..., 0], ir[..., 1]) and np.array_equal(ir[..., 1], ir[..., 2])
        vis = np.asarray(world.render(pid, 0, 1, "visible", index=pid, size=SIZE)[0]).astype(int)
        assert np.abs(vis[..., 0] - vis[..., 2]).mean() > 3


def test_identity_is_consistent_and_outfits_differ() -> None:
    world = SyntheticWorld(num_ids=3, seed=0, outfits_per_id=3)
    assert world.identity(1) is world.identity(1)
    assert np.array_equal(world.identity(1).skin, SyntheticWorld(num_ids=3, seed=0).identity(1).skin)
    tops = {tuple(np.round(world.outfit(p, o).top)) for p in range(3) for o in range(3)}
    assert len(tops) > 3
    assert world.clothes_id(2, 1) == 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pid": 9}, "pid 9"),
        ({"outfit": 2}, "outfit 2"),
        ({"camid": 7}, "camid 7"),
        ({"modality": "thermal"}, "modality"),
        ({"size": (4, 2)}, "size"),
    ],
)
def test_render_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    world = SyntheticWorld(num_ids=3, seed=0, outfits_per_id=2, num_cameras=3)
    args = {"pid": 0, "outfit": 0, "camid": 0, "modality": "visible", "size": SIZE, **kwargs}
    with pytest.raises(ValueError, match=message):
        world.render(args.pop("pid"), args.pop("outfit"), args.pop("camid"), **args)


def test_unknown_domain_is_an_error() -> None:
    with pytest.raises(ValueError, match="domain 'c'"):
        SyntheticWorld(num_ids=3, domain="c")


GOLDEN = "ec59e7d8eb3203e07de1f55b292251dba9c671a6a75c7b431be50a5015179834"
