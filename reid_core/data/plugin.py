"""The core's builtin sampler plugin: registers the core's samplers through the public hook.

Each factory names only the arguments it needs (see ``reid_register_samplers`` in
``docs/hooks.md``); ``build_sampler`` passes those and the loader's ``sampler_options``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reid_core.hookspecs import hookimpl


def _identity(distinct: bool) -> Any:
    def factory(
        *, pids: Sequence[int], batch_size: int, num_instances: int, seed: int, rank: int, world_size: int
    ) -> Any:
        from reid_core.data.samplers import RandomIdentitySampler

        return RandomIdentitySampler(
            pids,
            batch_size,
            num_instances,
            distinct_pids=distinct,
            seed=seed,
            rank=rank,
            world_size=world_size,
        )

    return factory


def _modality(distinct: bool) -> Any:
    def factory(
        *,
        pids: Sequence[int],
        modalities: Sequence[Any],
        batch_size: int,
        num_instances: int,
        seed: int,
        rank: int,
        world_size: int,
        infrared_first: bool = False,
    ) -> Any:
        from reid_core.data.samplers import ModalityBalancedSampler

        return ModalityBalancedSampler(
            pids,
            modalities,
            batch_size,
            num_instances,
            infrared_first=bool(infrared_first),
            distinct_pids=distinct,
            seed=seed,
            rank=rank,
            world_size=world_size,
        )

    return factory


def _camera(
    *, pids: Sequence[int], camids: Sequence[int], num_instances: int, seed: int, rank: int, world_size: int
) -> Any:
    from reid_core.data.samplers import CameraAwareSampler

    return CameraAwareSampler(pids, camids, num_instances, seed=seed, rank=rank, world_size=world_size)


def _random(*, pids: Sequence[int], seed: int, rank: int, world_size: int) -> Any:
    from reid_core.data.samplers import RandomOrderSampler

    return RandomOrderSampler(len(pids), seed=seed, rank=rank, world_size=world_size)


@hookimpl
def reid_register_samplers(register: Any) -> None:
    """Register identity, identity-distinct, camera, modality, modality-distinct and random."""
    register(
        "identity", _identity(False), description="P x K identity sampling (chunks of K shuffled together)"
    )
    register(
        "identity-distinct", _identity(True), description="P x K with P distinct identities per batch (BoT)"
    )
    register("camera", _camera, description="ICSR: per identity an anchor and K-1 images from other cameras")
    register(
        "modality",
        _modality(False),
        description="P x K, each chunk K/2 visible + K/2 infrared (option infrared_first)",
    )
    register(
        "modality-distinct",
        _modality(True),
        description="modality-balanced P x K with P distinct identities per batch (option infrared_first)",
    )
    register("random", _random, description="a seeded random permutation of all samples (labels ignored)")
