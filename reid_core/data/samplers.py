"""Training samplers: P x K identity sampling, camera-aware and modality-balanced variants, and a
plain random order, each deterministic for a given ``seed`` and epoch and split across DDP ranks.

Every sampler builds one *global* order per epoch (the same on every rank, from ``seed`` and the
epoch set by :meth:`EpochSampler.set_epoch`) as a list of blocks (the K images of one identity, or
single images); rank ``r`` of ``world_size`` takes blocks ``r, r + world_size, ...``, so ranks see
disjoint parts of the same order, and every rank is cut to the same length (DDP needs equal step
counts). Use them as ``DataLoader(ds, batch_size=batch_size, sampler=sampler, drop_last=True)``, where
``batch_size`` is the per-process batch.

Labels equal to -1 (pseudo-label outliers) are never sampled by the identity-based samplers.
"""

from __future__ import annotations

import abc
import inspect
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from torch.utils.data import Sampler

from reid_core.datasets.base import DatasetError

log = logging.getLogger(__name__)

#: The core's own sampler kinds (plugins may register more: ``reid list samplers``).
SAMPLER_KINDS = ("identity", "identity-distinct", "camera", "modality", "modality-distinct", "random")
_MODALITY_NAMES = {"visible": 0, "infrared": 1}


class EpochSampler(Sampler[int], abc.ABC):
    """Base class: a seeded per-epoch order of blocks, dealt round-robin to the ranks.

    Subclasses implement :meth:`_blocks` (the global order of this epoch) and may override
    :meth:`_rank_length` (e.g. to keep whole batches).

    Args:
        seed: base seed; the epoch's generator is ``numpy.random.default_rng([seed, epoch])``.
        rank, world_size: this process's rank and the number of processes.
    """

    def __init__(self, *, seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        super().__init__()
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size), got rank={rank}, world_size={world_size}")
        if seed < 0:
            raise ValueError(f"sampler seed must be >= 0, got {seed}")
        self.seed, self.rank, self.world_size = int(seed), int(rank), int(world_size)
        self.epoch = 0
        self._start = 0
        self._cache: tuple[int, list[int]] | None = None

    # -- public ----------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order the next iteration yields (call before every epoch)."""
        self.epoch = int(epoch)

    def set_start(self, start: int) -> None:
        """Skip the first ``start`` indices of this rank in the next iteration only (mid-epoch resume)."""
        self._start = max(0, int(start))

    def indices(self, epoch: int | None = None) -> list[int]:
        """This rank's full index list for ``epoch`` (default: the current one)."""
        epoch = self.epoch if epoch is None else int(epoch)
        if self._cache is None or self._cache[0] != epoch:
            rng = np.random.default_rng([self.seed, epoch])
            self._cache = (epoch, self._split(self._blocks(rng)))
        return self._cache[1]

    def __iter__(self) -> Iterator[int]:
        start, self._start = self._start, 0
        return iter(self.indices()[start:])

    def __len__(self) -> int:
        return max(0, len(self.indices()) - self._start)

    def state_dict(self) -> dict[str, Any]:
        """The sampler's position: seed and epoch (its order is a function of both)."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])
        self._cache = None

    # -- subclass API ----------------------------------------------------------------------
    @abc.abstractmethod
    def _blocks(self, rng: np.random.Generator) -> list[list[int]]:
        """The epoch's index blocks (e.g. K-image chunks of one identity), in dealing order."""

    def _rank_length(self, common: int) -> int:
        """The per-rank length given the shortest rank's length (default: that length)."""
        return common

    def _split(self, blocks: list[list[int]]) -> list[int]:
        per_rank = [[i for block in blocks[r :: self.world_size] for i in block] for r in range(self.world_size)]
        length = self._rank_length(min(len(p) for p in per_rank))
        return per_rank[self.rank][:length]


def _group(pids: Sequence[int]) -> dict[int, list[int]]:
    """pid -> indices, without the -1 label; pids in sorted order for determinism."""
    groups: dict[int, list[int]] = defaultdict(list)
    for index, pid in enumerate(pids):
        if int(pid) != -1:
            groups[int(pid)].append(index)
    return dict(sorted(groups.items()))


def _check_pk(batch_size: int, num_instances: int, what: str) -> int:
    """P, the identities per batch; an impossible P x K is a :class:`ConfigError` (a ``ValueError``) naming the keys."""
    if num_instances < 1 or batch_size < num_instances or batch_size % num_instances:
        from reid_core.config import ConfigError

        raise ConfigError(
            f"{what}: batch_size ({batch_size}) must be a positive multiple of num_instances ({num_instances}); "
            "set data.batch_size to P x data.num_instances"
        )
    return batch_size // num_instances


class _ChunkSampler(EpochSampler):
    """Shared by the P x K samplers: shuffled chunks of K, cut to whole batches on every rank."""

    batch_size: int
    num_instances: int
    num_pids_per_batch: int
    num_chunks: int
    groups: dict[int, Any]
    distinct_pids: bool = False

    def _deal(self, per_pid: list[list[list[int]]], rng: np.random.Generator) -> list[list[int]]:
        """The epoch's chunk order from each identity's chunks.

        Default: all chunks shuffled together. With ``distinct_pids``: groups of ``P * world_size``
        chunks from distinct identities (drawn among those with chunks left; BoT's and IV-ReID's rule),
        until fewer identities than that remain; each rank's batch then holds P distinct identities.
        """
        if not self.distinct_pids:
            chunks = [c for cs in per_pid for c in cs]
            return [chunks[i] for i in rng.permutation(len(chunks))]
        group = self.num_pids_per_batch * self.world_size
        remaining = [list(cs) for cs in per_pid if cs]
        out: list[list[int]] = []
        while len(remaining) >= group:
            for j in rng.choice(len(remaining), size=group, replace=False):
                out.append(remaining[j].pop(0))
            remaining = [cs for cs in remaining if cs]
        return out

    def _rank_length(self, common: int) -> int:
        return common // self.batch_size * self.batch_size

    def _check_nonempty(self, what: str) -> None:
        """A DatasetError (shown by the CLI as one line, not a traceback) when the data cannot fill one batch."""
        if len(self.indices()) == 0:
            p, k, ranks = self.num_pids_per_batch, self.num_instances, self.world_size
            need = f"{p * ranks} distinct identities" if self.distinct_pids else f"{p * ranks} groups of K"
            raise DatasetError(
                f"{what}: not enough identities for one batch: {len(self.groups)} usable identities "
                f"({self.num_chunks} groups of K={k} images), but a batch of P x K = {p} x {k} = "
                f"{self.batch_size} images per rank needs {need} over {ranks} rank(s). Lower "
                "--set data.batch_size=... (P x K) or --set data.num_instances=... (K), or use more data"
            )


class RandomIdentitySampler(_ChunkSampler):
    """P x K identity sampling, as CAL/AIM's (distributed) RandomIdentitySampler.

    Each epoch, every identity's images are shuffled (sampled to K with replacement if it has fewer than
    K) and cut into chunks of K, dropping the remainder; all chunks are shuffled and dealt to the ranks.
    A batch of ``batch_size = P * K`` is P consecutive chunks (two chunks of one identity can share a batch).

    Epoch length per rank: ``(n_chunks // (P * world_size)) * batch_size`` with
    ``n_chunks = sum over ids of max(1, n_id // K)``.

    With ``distinct_pids=True`` (BoT's sampler), every batch holds P distinct identities: batches are
    drawn among the identities that still have chunks until fewer than P (times ``world_size``) remain,
    so the epoch is shorter and its length depends on the draw.

    Args:
        pids: the label of every sample (pseudo labels allowed; -1 skipped).
        batch_size: per-process batch size (a multiple of ``num_instances``).
        num_instances: K, images per identity in a batch.
        distinct_pids: P distinct identities per batch (see above).
    """

    def __init__(
        self,
        pids: Sequence[int],
        batch_size: int,
        num_instances: int,
        *,
        distinct_pids: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        super().__init__(seed=seed, rank=rank, world_size=world_size)
        self.distinct_pids = bool(distinct_pids)
        self.num_instances = int(num_instances)
        self.batch_size = int(batch_size)
        self.num_pids_per_batch = _check_pk(self.batch_size, self.num_instances, "RandomIdentitySampler")
        self.groups = _group(pids)
        self.num_chunks = sum(max(1, len(v) // self.num_instances) for v in self.groups.values())
        self._check_nonempty("RandomIdentitySampler")

    def _blocks(self, rng: np.random.Generator) -> list[list[int]]:
        k = self.num_instances
        per_pid: list[list[list[int]]] = []
        for idxs in self.groups.values():
            if len(idxs) < k:
                picked = rng.choice(idxs, size=k, replace=True)
            else:
                picked = rng.permutation(idxs)
            per_pid.append([picked[c * k : (c + 1) * k].tolist() for c in range(len(picked) // k)])
        return self._deal(per_pid, rng)


class ModalityBalancedSampler(_ChunkSampler):
    """P x K sampling where each identity's chunk holds K/2 visible then K/2 infrared images.

    Per epoch and identity, both modality lists are shuffled (sampled to K/2 with replacement when shorter)
    and paired into ``max(1, min(n_visible, n_infrared) // (K/2))`` chunks; chunks are shuffled and dealt as in
    :class:`RandomIdentitySampler`. Identities lacking one modality are skipped (logged).

    Args:
        pids: labels (-1 skipped).
        modalities: 0 / ``"visible"`` or 1 / ``"infrared"`` per sample.
        batch_size: per-process batch (multiple of K); num_instances: K (even).
        infrared_first: put the K/2 infrared images first in each chunk (IV-ReID's layout).
        distinct_pids: P distinct identities per batch (IV-ReID's rule; see :class:`RandomIdentitySampler`).
    """

    def __init__(
        self,
        pids: Sequence[int],
        modalities: Sequence[int | str | None],
        batch_size: int,
        num_instances: int,
        *,
        infrared_first: bool = False,
        distinct_pids: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        super().__init__(seed=seed, rank=rank, world_size=world_size)
        if num_instances % 2:
            raise ValueError(f"ModalityBalancedSampler: num_instances must be even (K/2 per modality), got {num_instances}")
        if len(modalities) != len(pids):
            raise ValueError(f"ModalityBalancedSampler: {len(modalities)} modalities for {len(pids)} samples")
        self.num_instances, self.batch_size = int(num_instances), int(batch_size)
        self.num_pids_per_batch = _check_pk(self.batch_size, self.num_instances, "ModalityBalancedSampler")
        self.infrared_first = infrared_first
        self.distinct_pids = bool(distinct_pids)
        codes = [_MODALITY_NAMES.get(m, m) if isinstance(m, str) else (-1 if m is None else int(m)) for m in modalities]
        self.groups: dict[int, tuple[list[int], list[int]]] = {}
        skipped = 0
        for pid, idxs in _group(pids).items():
            vis = [i for i in idxs if codes[i] == 0]
            ir = [i for i in idxs if codes[i] == 1]
            if vis and ir:
                self.groups[pid] = (vis, ir)
            else:
                skipped += 1
        if skipped:
            log.warning("ModalityBalancedSampler: %d identities lack one modality and are never sampled", skipped)
        half = self.num_instances // 2
        self.num_chunks = sum(max(1, min(len(v), len(i)) // half) for v, i in self.groups.values())
        self._check_nonempty("ModalityBalancedSampler")

    def _blocks(self, rng: np.random.Generator) -> list[list[int]]:
        half = self.num_instances // 2
        per_pid: list[list[list[int]]] = []
        for vis, ir in self.groups.values():
            n = max(1, min(len(vis), len(ir)) // half)
            lists = []
            for idxs in (vis, ir):
                lists.append(rng.choice(idxs, size=half, replace=True) if len(idxs) < half else rng.permutation(idxs))
            first, second = (lists[1], lists[0]) if self.infrared_first else (lists[0], lists[1])
            per_pid.append(
                [first[c * half : (c + 1) * half].tolist() + second[c * half : (c + 1) * half].tolist() for c in range(n)]
            )
        return self._deal(per_pid, rng)


class CameraAwareSampler(EpochSampler):
    """ICSR's RandomMultipleGallerySampler: per identity, one anchor and K-1 images from other cameras.

    Per epoch, identities (label -1 skipped) are visited in random order; for each, a random anchor is drawn,
    then K-1 images of the same identity from cameras other than the anchor's (without replacement if at
    least K such images exist, else with replacement). An identity seen by a single camera gives K-1 of its
    other images instead (same rule); an identity with a single image gives only the anchor, so blocks are
    not always K long and batches are not guaranteed P x K. Ranks are cut to equal length.

    Args:
        pids: labels (pseudo labels allowed; -1 skipped). camids: camera of each sample.
        num_instances: K.
    """

    def __init__(
        self,
        pids: Sequence[int],
        camids: Sequence[int],
        num_instances: int,
        *,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        super().__init__(seed=seed, rank=rank, world_size=world_size)
        if len(camids) != len(pids):
            raise ValueError(f"CameraAwareSampler: {len(camids)} camids for {len(pids)} samples")
        if num_instances < 1:
            raise ValueError(f"CameraAwareSampler: num_instances must be >= 1, got {num_instances}")
        self.num_instances = int(num_instances)
        self.camids = np.asarray(camids, dtype=np.int64)
        self.groups = {pid: np.asarray(idxs) for pid, idxs in _group(pids).items()}
        if not self.groups:
            raise ValueError("CameraAwareSampler: no labelled sample (every label is -1)")

    def _blocks(self, rng: np.random.Generator) -> list[list[int]]:
        k = self.num_instances
        pids = list(self.groups)
        blocks: list[list[int]] = []
        for p in rng.permutation(len(pids)):
            idxs = self.groups[pids[p]]
            a = int(rng.integers(len(idxs)))
            anchor = int(idxs[a])
            others = np.delete(idxs, a)
            other_cam = others[self.camids[others] != self.camids[anchor]]
            pool = other_cam if len(other_cam) else others
            block = [anchor]
            if len(pool) and k > 1:
                block += rng.choice(pool, size=k - 1, replace=len(pool) < k).tolist()
            blocks.append(block)
        return blocks


class RandomOrderSampler(EpochSampler):
    """A seeded random permutation of all ``num_samples`` indices, split across ranks (each rank gets
    ``num_samples // world_size`` indices). Labels are ignored (unlabelled data sets welcome)."""

    def __init__(self, num_samples: int, *, seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        super().__init__(seed=seed, rank=rank, world_size=world_size)
        self.num_samples = int(num_samples)

    def _blocks(self, rng: np.random.Generator) -> list[list[int]]:
        return [[int(i)] for i in rng.permutation(self.num_samples)]


def build_sampler(
    kind: str,
    *,
    pids: Sequence[int],
    camids: Sequence[int] | None = None,
    modalities: Sequence[int | str | None] | None = None,
    samples: Sequence[Any] | None = None,
    batch_size: int,
    num_instances: int,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """Build a training sampler by its registered kind (hook ``reid_register_samplers``).

    The factory receives, by keyword, those of the arguments below that its signature names, plus
    ``options``; an option it does not accept, or a missing input it needs, is a ``ValueError``.

    Args:
        kind: a registered sampler: the core's are ``"identity"`` (:class:`RandomIdentitySampler`),
            ``"identity-distinct"`` (the same with P distinct identities per batch), ``"camera"``
            (:class:`CameraAwareSampler`, needs ``camids``), ``"modality"`` / ``"modality-distinct"``
            (:class:`ModalityBalancedSampler`, needs ``modalities``; option ``infrared_first``) and
            ``"random"`` (:class:`RandomOrderSampler` over all ``len(pids)`` samples).
        pids: label per sample (e.g. ``ImageDataset.pids``; pseudo labels with -1 for outliers).
        camids, modalities, samples: per-sample cameras, modalities and ``Sample`` records.
        batch_size: per-process batch; num_instances: K.
        seed, rank, world_size: see :class:`EpochSampler`.
        options: extra keyword arguments for the factory (``train_loader(sampler_options=...)``).
    """
    from reid_core.plugins import get_registry
    from reid_core.registry import UnknownNameError

    registry = get_registry("samplers")
    try:
        entry = registry.get(kind)
    except UnknownNameError as exc:
        raise ValueError(str(exc)) from None
    given: dict[str, Any] = {
        "pids": pids,
        "camids": camids,
        "modalities": modalities,
        "samples": samples,
        "batch_size": batch_size,
        "num_instances": num_instances,
        "seed": seed,
        "rank": rank,
        "world_size": world_size,
    }
    params = inspect.signature(entry.factory).parameters
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    options = dict(options or {})
    clash = sorted(set(options) & set(given))
    if clash:
        raise ValueError(
            f"sampler option(s) {', '.join(clash)} clash with train_loader arguments; pass them directly"
        )
    unknown = sorted(k for k in options if k not in params and not var_kw)
    if unknown:
        accepted = [
            n for n, p in params.items() if n not in given and p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        raise ValueError(
            f"sampler {kind!r} (plugin {entry.plugin!r}) does not accept option(s) {', '.join(unknown)}; "
            f"it accepts: {', '.join(accepted) or '(none)'}"
        )
    kwargs = {k: v for k, v in given.items() if k in params or var_kw}
    missing = sorted(
        k
        for k, v in kwargs.items()
        if v is None and params.get(k) is not None and params[k].default is inspect.Parameter.empty
    )
    if missing:
        raise ValueError(f"sampler {kind!r} needs {', '.join(missing)}")
    return entry.factory(**kwargs, **options)
