"""The reid plugin contract: every hook a plugin may implement.

Registry hooks receive a ``register`` callable (as in simonw/llm)::

    register(name: str, factory: Callable[..., Any], *, description: str = "") -> None

Engine events are plain notifications: observers (loggers, notifiers) implement them and
return nothing. The set of hooks is versioned by :data:`HOOKSPEC_VERSION`; see ``docs/hooks.md``.
"""

from __future__ import annotations

from typing import Any

import click
import pluggy

PROJECT_NAME = "reid"
#: Version of the hook set. Bumped on any change of a hook name or signature.
HOOKSPEC_VERSION = "1.1"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def reid_register_datasets(register: Any) -> None:
    """Register dataset factories.

    Called once, when the plugin manager builds the dataset registry (first use of
    ``reid_core.registry.datasets()``, ``reid list datasets``, ``reid run``).

    ``register(name, factory, *, description="")``: ``factory(root, **options)`` returns a
    :class:`reid_core.datasets.ReidDataset`; ``root`` is the folder that holds the data set's own
    folder (``None`` for generated data), ``options`` are the ``--option key=value`` pairs.
    """


@hookspec
def reid_register_backbones(register: Any) -> None:
    """Register backbone factories.

    Called once, when the backbone registry is first used.
    ``register(name, factory, *, description="")``: ``factory(**kwargs)`` returns an
    ``nn.Module`` whose ``forward(images)`` gives a feature map ``[B, C, H, W]`` and which
    has an ``out_channels`` attribute. Common kwargs: ``pretrained`` (a path, a file name
    looked up in ``REID_WEIGHTS_DIR``, or ``"none"``) and ``last_stride``.
    """


@hookspec
def reid_register_methods(register: Any) -> None:
    """Register training methods.

    Called once, when the method registry is first used (``reid run``, ``reid list methods``).
    ``register(name, factory, *, description="")``: ``factory`` is a subclass of
    :class:`reid_core.methods.Method` (its ``config_class`` and ``profiles`` describe its
    configuration).
    """


@hookspec
def reid_register_losses(register: Any) -> None:
    """Register loss factories.

    Called once, when the loss registry is first used.
    ``register(name, factory, *, description="")``: ``factory(**kwargs)`` returns an
    ``nn.Module`` loss.
    """


@hookspec
def reid_register_evaluators(register: Any) -> None:
    """Register evaluation protocols.

    Called once, when the evaluator registry is first used.
    ``register(name, factory, *, description="")``: ``factory(**options)`` returns a
    :class:`reid_core.evaluation.Evaluator`, an object whose
    ``evaluate(query_features, gallery_features, query, gallery, metric=...)`` returns the
    metrics dict. The registered name is the key of the results in ``metrics.json``.
    """


@hookspec
def reid_register_samplers(register: Any) -> None:
    """Register training sampler kinds (the ``sampler=`` of ``Context.train_loader``).

    Called once, when the sampler registry is first used (the first ``train_loader`` call,
    ``reid list samplers``). ``register(name, factory, *, description="")``: ``factory`` is called
    with keyword arguments only, and only with those its signature names, among ``samples``
    (the samples the loader draws from), ``pids``, ``camids``, ``modalities`` (one per sample),
    ``batch_size`` (per process), ``num_instances``, ``seed``, ``rank`` and ``world_size``, plus
    the loader's ``sampler_options`` (an option the factory does not accept is an error naming
    the sampler). It returns a sampler of indices into ``samples`` (with ``set_epoch(epoch)``
    for a new order per epoch), or a batch sampler flagged ``yields_batches = True``.
    """


@hookspec
def reid_register_commands(cli: click.Group) -> None:
    """Add click commands to the ``reid`` command group.

    Called once, when the ``reid`` command starts, after the builtin commands exist.
    ``cli`` is the root :class:`click.Group`; use ``@cli.command()`` or ``cli.add_command``.
    """


@hookspec
def reid_run_start(run: Any) -> None:
    """A run is about to train.

    Called on every process of a run (check ``run.is_main`` to act on rank 0 only), after the
    method is built and a checkpoint (if any) is restored. ``run`` is the
    :class:`reid_core.engine.Run` (``run.config``, ``run.output_dir``, ``run.method``,
    ``run.epoch``).
    """


@hookspec
def reid_epoch_end(run: Any, epoch: int, metrics: dict[str, Any]) -> None:
    """An epoch finished.

    Called after the epoch's checkpoint is written. ``epoch`` is 0-based and global across
    stages. ``metrics`` holds the epoch's mean losses (``loss/<name>``), learning rates
    (``lr/<optimizer>``), throughput (``images_per_second``) and, when the epoch was
    evaluated, ``<evaluator>/<metric>`` values in percent.
    """


@hookspec
def reid_run_end(run: Any, metrics: dict[str, Any]) -> None:
    """A run finished: called once, after the last epoch and the final evaluation.

    ``metrics`` is what ``metrics.json`` holds: per evaluator name, ``last`` and ``best``
    results.
    """
