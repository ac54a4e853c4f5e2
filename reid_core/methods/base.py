"""The method interface: what a training method implements and what the engine gives it.

A method owns its models, losses, optimizers and what happens in one step; the engine owns the
loop, devices, AMP, DDP, checkpoints, logging and evaluation. ``docs/methods.md`` maps each of
the five papers onto this interface.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs

if TYPE_CHECKING:
    import torch
    from torch import nn

    from reid_core.data.sample import Sample
    from reid_core.datasets.base import ReidDataset


@attrs.frozen
class Stage:
    """One training stage: a name, a number of epochs and, optionally, a fixed epoch length.

    ``iters_per_epoch=None`` makes an epoch one pass over the first train loader.
    """

    name: str
    epochs: int
    iters_per_epoch: int | None = None


class Context(Protocol):
    """What the engine offers a method (implemented by ``reid_core.engine.context.RunContext``)."""

    config: Any  #: the whole resolved run config (``data``, ``train``, the method's section)
    dataset: ReidDataset
    device: torch.device
    rank: int
    world_size: int
    is_main: bool
    output_dir: Any  #: pathlib.Path of the run folder
    epoch: int  #: the current global epoch (0-based), set before ``on_epoch_start``

    def prepare(self, module: nn.Module, *, find_unused_parameters: bool = False) -> nn.Module:
        """Move a module to the device and, under DDP, wrap it. Call in ``setup_stage``."""

    def train_loader(
        self,
        samples: Sequence[Sample],
        *,
        sampler: str = "identity",
        batch_size: int | None = None,
        num_instances: int | None = None,
        transform: Any = None,
        labels: Sequence[int] | None = None,
        drop_last: bool = True,
        sampler_options: Mapping[str, Any] | None = None,
    ) -> Iterable[dict[str, Any]]:
        """A training loader over ``samples``: ``sampler`` is a registered sampler kind
        (``identity`` P x K, ``camera`` camera-aware P x K, ``modality``, ``random``, or one a
        plugin adds with ``reid_register_samplers``), made distributed under DDP and re-seeded per
        epoch; ``sampler_options`` are extra keyword arguments of the sampler's factory. ``labels``
        replaces the pids (pseudo labels); samples labelled -1 are left out. ``drop_last=False``
        keeps each rank's last incomplete batch (the loader's ``drop_last`` attribute may be changed
        between epochs)."""

    @abc.abstractmethod
    def extract_features(self, samples: Sequence[Sample], *, transform: Any = None) -> torch.Tensor:
        """Test-mode features of ``samples`` (in order) from ``Method.extract_features``,
        gathered from every rank; used for evaluation and for "before each epoch" work."""

    def log(self, message: str) -> None:
        """A line in the run's log (rank 0 only)."""


class StepContext(Protocol):
    """What one training step gets, besides its batch."""

    epoch: int  #: global 0-based epoch
    stage_epoch: int  #: epoch within the current stage
    iteration: int  #: iteration within the epoch
    global_step: int

    def optimize(
        self, losses: dict[str, torch.Tensor], optimizers: str | Sequence[str], *, retain_graph: bool = False
    ) -> torch.Tensor:
        """Check every loss term for NaN/inf (naming it), back-propagate their sum with the AMP
        scaler, clip, and step then zero the named optimizers (respecting accumulation).
        ``retain_graph=True`` keeps the graph for a later call through the same forward.
        Returns the detached total."""


class ExportError(Exception):
    """A method's test-time model cannot be exported (or the export failed); the message says why."""


class Method(abc.ABC):
    """Base class of every training method.

    Subclasses set ``name``, ``config_class`` (an attrs class, the ``[<name>]`` section of the
    run config) and ``profiles``, and implement ``setup_stage``, ``train_loaders``,
    ``training_step`` and ``extract_features``. Everything else has a sensible default.
    """

    #: Registered name; also the name of the method's config section.
    name: ClassVar[str] = "method"
    #: The attrs class of the method's section.
    config_class: ClassVar[type]
    #: Named profiles: nested overrides of the whole run config (``{"data": {...}, name: {...}}``).
    #: A profile's optional ``"by_dataset": {dataset: overrides}`` adds settings for one data set.
    #: ``paper`` is the default with a real data set, ``quick`` the default demo.
    profiles: ClassVar[dict[str, dict[str, Any]]] = {}
    #: The data set that ``reid run METHOD`` uses without ``--dataset``.
    default_dataset: ClassVar[str] = "synthetic"
    #: The demo's labelled source data set for domain-adaptive methods ("" = none): ``reid run NAME``
    #: without ``--dataset`` adapts it to ``default_dataset``.
    default_source: ClassVar[str] = ""
    #: False: ``training_step`` returns losses and the engine steps every optimizer on their sum.
    #: True: the method calls ``step.optimize`` itself, as often as it needs.
    manual_optimization: ClassVar[bool] = False
    #: Distance used at evaluation: ``euclidean`` (torchreid) or ``cosine`` (CAL/AIM).
    eval_metric: ClassVar[str] = "euclidean"
    #: Parts of weight names (``module.tensor``) that only training uses: ``reid eval`` on another
    #: data set (direct transfer) ignores them when their size differs (the classifier's classes).
    train_only_weights: ClassVar[tuple[str, ...]] = ("classifier", "center")
    #: Training batches are P identities x K images of the train split's labels (``data.batch_size``,
    #: ``data.num_instances``): checked before a run starts. False for methods that choose their own
    #: batches (e.g. from pseudo labels).
    identity_batches: ClassVar[bool] = True

    @classmethod
    def check_data(cls, config: Any, dataset: Any) -> None:
        """Method-specific checks of the resolved config against the loaded data set, made before the
        run folder exists (``reid run``, ``--dry-run``), so that a run that cannot work fails at once.

        Raise :class:`reid_core.config.ConfigError` or :class:`reid_core.datasets.DatasetError` with a
        one-line message naming the key and the fix. The default checks nothing.
        """
        return None
    #: Foreign checkpoint layouts :meth:`convert_checkpoint` reads (``reid eval METHOD --from NAME``),
    #: e.g. ``("official",)`` for the weights released with a paper.
    checkpoint_formats: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, context: Context) -> None:
        self.config = config
        self.cfg = getattr(config, self.name.replace("-", "_"))
        self.ctx = context
        self._optimizers: dict[str, torch.optim.Optimizer] = {}
        self._schedulers: dict[str, Any] = {}
        self._modules: dict[str, nn.Module] = {}
        self._frozen: dict[str, nn.Module] = {}

    # -- structure ------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        """The stages to train, in order (default: one stage of ``cfg.epochs`` epochs)."""
        return [Stage("train", int(self.cfg.epochs), getattr(self.cfg, "iters_per_epoch", None) or None)]

    @abc.abstractmethod
    def setup_stage(self, stage: Stage) -> None:
        """Build models, optimizers and schedulers for ``stage`` (called at every stage start,
        also before a checkpoint is restored). Register them with ``add_module``,
        ``add_optimizer`` and ``add_scheduler``.

        The engine calls :meth:`reset` just before, so only what this call registers is trained,
        stepped and checkpointed in the stage: a module kept across stages (kept in an attribute)
        is registered again here. On resume only the checkpoint's stage is set up, then its
        weights are loaded, so build what the stage needs even when earlier stages did not run
        in this process."""

    @abc.abstractmethod
    def train_loaders(self, stage: Stage) -> dict[str, Iterable[Any]]:
        """Named training loaders; each step gets one batch of each, as ``batch[name]``.
        Called at the start of each epoch, after ``on_epoch_start``. An epoch is
        ``stage.iters_per_epoch`` steps, or one pass over the first loader; a loader that runs
        out earlier starts again. Loaders with ``set_epoch`` (those of ``Context.train_loader``)
        are told the global epoch, so their order is reproducible on resume."""

    def on_epoch_start(self, epoch: int, stage: Stage) -> None:  # noqa: B027 (optional hook)
        """Work before an epoch (pseudo labels, memory refresh). ``epoch`` is the stage epoch."""

    @abc.abstractmethod
    def training_step(self, batch: dict[str, Any], step: StepContext) -> dict[str, torch.Tensor]:
        """One iteration. Returns named, weighted loss terms (tensors; non-tensor values are logged)."""

    def on_epoch_end(self, epoch: int, stage: Stage) -> None:
        """After an epoch's iterations (default: step every scheduler once)."""
        for scheduler in self._schedulers.values():
            scheduler.step()

    def on_stage_end(self, stage: Stage) -> None:  # noqa: B027 (optional hook)
        """After a stage's last epoch (write a stage's artefacts here, atomically)."""

    @abc.abstractmethod
    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        """Test features ``[B, D]`` of a batch, in eval mode and without gradients."""

    def export_module(self) -> nn.Module:
        """The test-time network as one module: ``forward(images [B, 3, H, W]) -> features [B, D]``.

        ``images`` are what :meth:`test_transform` gives (resized, normalised); the features are
        those of :meth:`extract_features` (flip averaging and normalisation included), so that an
        exported model (``reid export``) gives the same numbers as evaluation. The default wraps
        :meth:`extract_features` with a batch holding only ``img``; it works for any method whose
        test features need nothing but the images. A method that needs more at test time (a
        second network's output, keypoints, the modality) overrides this to return its own
        module, or to raise :class:`ExportError` saying why it cannot be exported.
        """
        from reid_core.methods.export import ExtractFeaturesModule

        return ExtractFeaturesModule(self)

    def test_transform(self) -> Any:
        """The transform of test-time images (evaluation and ``ctx.extract_features``);
        ``None`` (the default) means the core's resize + normalise at ``data.height x data.width``."""
        return None

    # -- what the engine saves, moves and steps -------------------------------------------------
    def add_module(
        self, name: str, module: nn.Module, *, trainable: bool = True, persistent: bool = True, **prepare: Any
    ) -> nn.Module:
        """Prepare ``module`` (device, DDP) and record it for checkpoints; returns the prepared one.

        ``trainable=False`` registers a **frozen auxiliary network** (a pose estimator, a teacher):
        it is moved to the device but never wrapped in DDP, its parameters stop requiring
        gradients (an optimizer given one of them is refused by :meth:`add_optimizer`), it is put
        in eval mode and :meth:`train` never flips it back. ``persistent=False`` keeps it out of
        checkpoints (weights that come from their own file); only a frozen module may be
        non-persistent, since a trained one must be saved for resume.
        """
        if not trainable:
            from reid_core.methods.frozen import freeze

            frozen = freeze(module).to(self.ctx.device)
            self._frozen[name] = frozen
            if persistent:
                self._modules[name] = frozen
            else:
                self._modules.pop(name, None)
            return frozen
        if not persistent:
            raise ValueError(
                f"add_module({name!r}): a trainable module must be persistent (checkpointed); "
                "use trainable=False for a frozen auxiliary network"
            )
        prepared = self.ctx.prepare(module, **prepare)
        self._modules[name] = prepared
        self._frozen.pop(name, None)
        return prepared

    def add_optimizer(self, name: str, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """Record ``optimizer`` (stepped, checkpointed); one holding a frozen module's parameter is refused."""
        if self._frozen:
            from reid_core.methods.frozen import check_no_frozen_parameters

            check_no_frozen_parameters(name, optimizer, self._frozen)
        self._optimizers[name] = optimizer
        return optimizer

    def add_scheduler(self, name: str, scheduler: Any) -> Any:
        self._schedulers[name] = scheduler
        return scheduler

    def reset(self) -> None:
        """Forget the modules, optimizers and schedulers of the previous stage."""
        self._modules, self._optimizers, self._schedulers, self._frozen = {}, {}, {}, {}

    def modules(self) -> dict[str, nn.Module]:
        """The checkpointed modules (trainable ones and persistent frozen ones), by name."""
        return dict(self._modules)

    def frozen_modules(self) -> dict[str, nn.Module]:
        """The frozen auxiliary networks (``add_module(..., trainable=False)``), by name."""
        return dict(self._frozen)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return dict(self._optimizers)

    def schedulers(self) -> dict[str, Any]:
        return dict(self._schedulers)

    def convert_checkpoint(self, source: str, state: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
        """Map a foreign checkpoint onto this method's modules: ``{module name: state dict}``.

        Called by ``reid eval METHOD --from SOURCE`` (``source`` is one of :attr:`checkpoint_formats`)
        after ``setup_stage`` of the last stage, with the file as loaded (``weights_only``). The engine
        loads each returned state dict strictly into the module registered under that name; modules
        left out keep their initial weights, so return at least what evaluation uses. A layout that
        does not fit raises ``ValueError`` (or ``KeyError``) naming the keys that are missing or
        unexpected; the engine shows it as a one-line error with the file name.
        """
        raise ValueError(
            f"method {self.name!r} lists checkpoint_formats {tuple(self.checkpoint_formats)} but does not "
            "override convert_checkpoint (a bug of its plugin)"
        )

    def state_dict(self) -> dict[str, Any]:
        """Extra state to checkpoint (memory banks, pseudo labels): tensors and plain values only."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027 (optional hook)
        """Restore what ``state_dict`` returned."""

    def train(self, mode: bool = True) -> None:
        """Put every trainable module in train (or eval) mode; frozen modules stay in eval mode."""
        for name, module in self._modules.items():
            if name not in self._frozen:
                module.train(mode)
        for module in self._frozen.values():
            module.eval()
