"""The training loop: stages -> epochs -> iterations, with evaluation, checkpoints and resume.

:class:`Run` is what engine events receive (``run.config``, ``run.output_dir``, ``run.method``,
``run.epoch``, ``run.is_main``). :func:`train_run` and :func:`evaluate_checkpoint` are what
``reid run`` and ``reid eval`` call.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from reid_core import config as cfg
from reid_core.datasets.standin import train_label_arrays
from reid_core.engine import checkpoint as ckpt
from reid_core.engine import distributed
from reid_core.engine.context import RunContext, to_device
from reid_core.engine.errors import EngineError, RunInterrupted
from reid_core.engine.evaluate import evaluate, format_table, main_metric
from reid_core.engine.outputs import RESTART, RESUME, RunOutput, read_metrics
from reid_core.engine.resume import reconcile_folder
from reid_core.engine.setup import (
    configure_determinism,
    load_dataset_once,
    load_method_weights,
    seed_everything,
)
from reid_core.engine.step import StepRunner, make_scaler
from reid_core.methods.base import Method, Stage
from reid_core.plugins import get_plugin_manager
from reid_core.progress import Progress

logger = logging.getLogger(__name__)


class Run:
    """One training run of a method on a data set, writing one output folder.

    Args:
        method_cls: the registered :class:`~reid_core.methods.Method` subclass.
        config: the resolved run config (``data``, ``train``, the method's section).
        output_dir: the run folder.
        resume: continue from ``checkpoints/last.pt`` of ``output_dir``.
        dataset: an already built data set (API and tests); default: ``config.data.dataset`` from the registry.
        typed: the config layers the user typed (see :func:`reid_core.resolve.user_layers`); with
            ``resume``, only these are compared with the saved config (``None``: all of ``config``).
    """

    def __init__(
        self, method_cls: type[Method], config: Any, output_dir: Path, *, resume: bool, dataset: Any = None,
        typed: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.method_cls = method_cls
        self.typed = typed
        self.restarted = False
        self.config = config
        self.output_dir = Path(output_dir)
        self.resume = resume
        self._dataset = dataset
        self.method: Method | None = None
        self.context: RunContext | None = None
        self.stages: list[Stage] = []
        self.stage_index = 0
        self.stage_epoch = 0  # epochs completed in the current stage
        self.epoch = 0  # epochs completed over all stages
        self.global_step = 0
        self.best_score: float | None = None
        self.best_epoch = 0
        self.history: list[dict[str, Any]] = []
        self.last_results: dict[str, dict[str, Any]] = {}
        self.best_results: dict[str, dict[str, Any]] = {}
        self.finished = False
        self.dist = distributed.DistInfo()
        self.output = RunOutput(self.output_dir, enabled=False)
        self.scaler: torch.amp.GradScaler | None = None
        self.step: StepRunner | None = None

    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    # -- entry point ---------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train every stage (or continue), evaluate, and return the content of ``metrics.json``."""
        self.dist = distributed.setup(self.config.train.device)
        clean = False
        try:
            state = self._check_output()
            if state is not None and state.get("finished"):
                # a warning so that it shows even where no logging is configured (the CLI)
                logger.warning("the run in %s already finished (%d epochs); nothing to resume", self.output_dir,
                               state["epoch"])
                metrics = read_metrics(self.output_dir) or state.get("metrics", {})
                clean = True
                return metrics
            distributed.barrier(self.dist)
            self._build(state)
            self.output = RunOutput(self.output_dir, enabled=self.is_main)
            self.output.open(self.config, purge_step=self.epoch + 1 if state is not None else None)
            if self.is_main:
                if self.restarted:  # logged once log.txt is open, below the failed attempt's lines
                    logger.warning("%s held a run that never finished an epoch: starting it again with the given "
                                   "settings", self.output_dir)
                self._log_start()
            if state is not None:
                logger.info("resuming %s after epoch %d (stage %r)", self.output_dir, self.epoch,
                            self.stages[self.stage_index].name)
            get_plugin_manager().call_event("reid_run_start", run=self)
            self._loop(restored=state is not None)
            metrics = self.metrics()
            if self.is_main:
                logger.info("results (last epoch):\n%s", format_table(metrics, "last"))
            get_plugin_manager().call_event("reid_run_end", run=self, metrics=metrics)
            clean = True
            return metrics
        except KeyboardInterrupt:
            raise RunInterrupted(self._interrupted()) from None
        finally:
            self.output.close()
            distributed.teardown(self.dist, clean=clean)

    def _interrupted(self) -> str:
        """Log (to ``log.txt`` when open) where Ctrl-C stopped the run and how to continue it."""
        if not self.output.enabled:
            message = f"interrupted before {self.output_dir} was written; nothing to resume"
        else:
            message = (f"interrupted after epoch {self.epoch}; resume with "
                       f"`reid run {self.method_cls.name} --output {self.output_dir} --resume`")
        if self.is_main:
            logger.warning("%s", message)
        return message

    # -- set-up --------------------------------------------------------------------------------
    def _log_start(self) -> None:
        assert self.method is not None
        train = self.config.train
        stats = self.dataset.stats().get("train", {})
        logger.info(
            "run %s on %s (train: %s ids, %s images%s) -> %s", self.method.name, self.config.data.dataset,
            stats.get("ids"), stats.get("images"),
            f" of source {self.config.data.source}" if self.config.data.source else "", self.output_dir,
        )
        logger.info(
            "device %s, %d process(es), amp %s, seed %d; stages: %s; best model by %s/%s",
            self.dist.device, self.dist.world_size, train.amp, train.seed,
            ", ".join(f"{s.name} ({s.epochs} epochs)" for s in self.stages), self.main_key, self.main_name,
        )

    def _check_output(self) -> dict[str, Any] | None:
        """Refuse to overwrite anything; with ``resume``, reconcile the saved config and verify ``last.pt``."""
        found, reconciled, last = reconcile_folder(self.method_cls.name, self.config, self.output_dir,
                                                   resume=self.resume, typed=self.typed)
        self.restarted, self.config = found == RESTART, reconciled.config
        if reconciled.ignored:
            logger.warning("--resume continues with the saved config.toml; ignoring typed values: %s "
                           "(start a new run with another --output to change them)", "; ".join(reconciled.ignored))
        if reconciled.applied:
            logger.warning("--resume applies: %s", "; ".join(reconciled.applied))
        if found == RESUME and last is None:
            logger.info("--resume: %s has no checkpoint yet; starting from the first epoch", self.output_dir)
        if last is None:
            return None
        state = ckpt.load(last)
        ckpt.verify_run(state, self.config, self.method_cls.name, last, self.output_dir / "config.toml")
        return state

    def _build(self, state: dict[str, Any] | None) -> None:
        train = self.config.train
        device = self.dist.device
        configure_determinism(self.config, device)
        seed_everything(train.seed)
        dataset = self._dataset if self._dataset is not None else load_dataset_once(self.config, self.dist)
        self.dataset = dataset
        self.main_key, self.main_name = main_metric(train.best_metric, dataset)
        self.context = RunContext(self.config, dataset, self.dist, self.output_dir)
        self.method = self.method_cls(self.config, self.context)
        self.context.method = self.method
        self.stages = list(self.method.stages())
        if not self.stages or any(s.epochs <= 0 for s in self.stages):
            raise EngineError(f"method {self.method.name!r} returned no stage or a stage without epochs: {self.stages}")
        self.scaler = make_scaler(train.amp, device)
        if state is None:
            self._setup_stage(0)
            if self.dist.rank > 0:
                seed_everything(train.seed + self.dist.rank)  # same weights (DDP syncs), different augmentation
            return
        self._restore(state)

    def _setup_stage(self, index: int) -> None:
        assert self.method is not None
        stage = self.stages[index]
        self.method.reset()
        self.method.setup_stage(stage)
        self.step = StepRunner(
            self.method.optimizers,
            amp=self.config.train.amp,
            device=self.dist.device,
            grad_clip=self.config.train.grad_clip,
            accumulate=self.config.train.accumulate,
            scaler=self.scaler,
        )

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-for-bit (tensors and plain values only)."""
        assert self.method is not None
        rng = distributed.gather_objects(ckpt.rng_state(), self.dist)
        return {
            "format": ckpt.FORMAT_VERSION,
            "method": self.method.name,
            "dataset": self.config.data.dataset,
            "config_digest": ckpt.config_digest(self.config),
            "modules": {k: ckpt.unwrap(m).state_dict() for k, m in self.method.modules().items()},
            "optimizers": {k: o.state_dict() for k, o in self.method.optimizers().items()},
            "schedulers": {k: s.state_dict() for k, s in self.method.schedulers().items()},
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "method_state": self.method.state_dict(),
            "rng": rng,
            "stage_index": self.stage_index,
            "stage_name": self.stages[self.stage_index].name,
            "stage_epoch": self.stage_epoch,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "last_results": self.last_results,
            "best_results": self.best_results,
            "finished": self.finished,
            "config": cfg.dumps_toml(self.config),
            "train_labels": train_label_arrays(self.dataset.train),  # reid_core.load() without the data
        }

    def _restore(self, state: dict[str, Any]) -> None:
        assert self.method is not None
        if state.get("method") != self.method.name:
            raise EngineError(
                f"checkpoint of method {state.get('method')!r} cannot resume method {self.method.name!r}"
            )
        self.stage_index = int(state["stage_index"])
        if self.stage_index >= len(self.stages):
            raise EngineError(f"checkpoint is at stage {self.stage_index} but the method has {len(self.stages)} stages")
        self._setup_stage(self.stage_index)
        last = self.output_dir / "checkpoints" / "last.pt"
        load_method_weights(self.method, state, strict=True, path=last)
        for kind, objects in (("optimizers", self.method.optimizers()), ("schedulers", self.method.schedulers())):
            saved = state[kind]
            if set(saved) != set(objects):
                raise EngineError(f"checkpoint {kind} {sorted(saved)} do not match the method's {sorted(objects)}")
            for name, obj in objects.items():
                try:
                    obj.load_state_dict(saved[name])
                except (ValueError, KeyError, RuntimeError) as exc:
                    raise EngineError(f"checkpoint {str(last)!r}: the {kind[:-1]} {name!r} does not fit: {exc}; "
                                      "the checkpoint is damaged: start a new run with another --output") from None
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.method.load_state_dict(state.get("method_state", {}))
        self.stage_epoch = int(state["stage_epoch"])
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])
        self.best_score = state.get("best_score")
        self.best_epoch = int(state.get("best_epoch", 0))
        self.history = list(state.get("history", []))
        self.last_results = dict(state.get("last_results", {}))
        self.best_results = dict(state.get("best_results", {}))
        rng = state["rng"]
        ckpt.set_rng_state(rng[self.dist.rank] if self.dist.rank < len(rng) else rng[0])

    def _save(self, *, best: bool) -> None:
        state = self.state_dict()  # collective (RNG gather): every rank takes part
        if self.is_main:
            ckpt.atomic_save(state, self.output.checkpoints / "last.pt")
            if best:
                ckpt.atomic_save(state, self.output.checkpoints / "best.pt")

    # -- the loop ------------------------------------------------------------------------------
    def _loop(self, *, restored: bool) -> None:
        assert self.method is not None
        train = self.config.train
        total_epochs = sum(s.epochs for s in self.stages)
        while self.stage_index < len(self.stages):
            stage = self.stages[self.stage_index]
            if self.stage_epoch >= stage.epochs:  # a restored, finished stage: go on to the next
                if self.stage_index + 1 >= len(self.stages):
                    break
                self.stage_index += 1
                self.stage_epoch = 0
                self._setup_stage(self.stage_index)
                continue
            metrics = self._train_epoch(stage, total_epochs)
            self.stage_epoch += 1
            self.epoch += 1
            self.method.on_epoch_end(self.stage_epoch - 1, stage)
            last_of_stage = self.stage_epoch >= stage.epochs
            if last_of_stage:
                self.method.on_stage_end(stage)
            final = last_of_stage and self.stage_index == len(self.stages) - 1
            improved = False
            if final or (train.eval_every and self.epoch % train.eval_every == 0):
                results = evaluate(self.method, self.context, self.dataset)
                improved = self._record(results)
                for key, values in results.items():
                    for name, value in values.items():
                        if isinstance(value, (int, float)) and name != "queries":
                            metrics[f"{key}/{name}"] = float(value)
            self.finished = final
            self.history.append({"epoch": self.epoch, **metrics})
            self._save(best=improved)
            self.output.scalars({k: v for k, v in metrics.items() if k != "epoch"}, self.epoch)
            if self.last_results:
                self.output.write_metrics(self.metrics())
            get_plugin_manager().call_event("reid_epoch_end", run=self, epoch=self.epoch - 1, metrics=metrics)

    def _record(self, results: dict[str, dict[str, Any]]) -> bool:
        """Keep the last results; return True (and keep them as best) when the main metric improved."""
        self.last_results = results
        if self.main_key not in results or self.main_name not in results[self.main_key]:
            raise cfg.ConfigError(
                f"train.best_metric: evaluation {self.main_key!r} gave no {self.main_name!r}; "
                f"it gave {sorted(results.get(self.main_key, {}))}"
            )
        score = float(results[self.main_key][self.main_name])
        if self.best_score is None or score > self.best_score:
            self.best_score, self.best_epoch, self.best_results = score, self.epoch, results
            return True
        return False

    def metrics(self) -> dict[str, Any]:
        """``metrics.json``: per evaluation key, the ``last`` and ``best`` results and the best epoch (1-based)."""
        return {
            key: {"last": values, "best": self.best_results.get(key, {}), "best_epoch": self.best_epoch}
            for key, values in self.last_results.items()
        }

    def _batches(self, loaders: dict[str, Iterable[Any]], iterations: int) -> Iterator[dict[str, Any]]:
        """``iterations`` steps of one batch of every loader; loaders that run out start again."""
        iterators = {name: iter(loader) for name, loader in loaders.items()}
        for _ in range(iterations):
            batch = {}
            for name, loader in loaders.items():
                try:
                    batch[name] = next(iterators[name])
                except StopIteration:
                    iterators[name] = iter(loader)
                    try:
                        batch[name] = next(iterators[name])
                    except StopIteration:
                        raise EngineError(f"train loader {name!r} yields no batch (too few samples?)") from None
            yield batch

    def _no_sync(self, update_step: bool) -> contextlib.AbstractContextManager[Any]:
        """Under DDP with accumulation, skip the gradient all-reduce on iterations that do not step."""
        stack = contextlib.ExitStack()
        if self.dist.distributed and not update_step and self.method is not None:
            for module in self.method.modules().values():
                if isinstance(module, torch.nn.parallel.DistributedDataParallel):
                    stack.enter_context(module.no_sync())
        return stack

    def _train_epoch(self, stage: Stage, total_epochs: int) -> dict[str, float]:
        method, context, step = self.method, self.context, self.step
        assert method is not None and context is not None and step is not None
        train = self.config.train
        context.epoch = self.epoch
        method.on_epoch_start(self.stage_epoch, stage)
        loaders = dict(method.train_loaders(stage))
        if not loaders:
            raise EngineError(f"method {method.name!r} returned no train loader for stage {stage.name!r}")
        for loader in loaders.values():
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(self.epoch)
        first_name, first = next(iter(loaders.items()))
        if stage.iters_per_epoch:
            iterations = stage.iters_per_epoch
        elif hasattr(first, "__len__"):
            iterations = len(first)  # type: ignore[arg-type]
        else:
            raise EngineError(
                f"stage {stage.name!r}: train loader {first_name!r} has no length; give the stage an iters_per_epoch"
            )
        if train.max_iters:
            iterations = min(iterations, train.max_iters)
        if iterations <= 0:
            raise EngineError(
                f"stage {stage.name!r}: an epoch has no iteration (the first loader is empty: fewer samples than a batch?)"
            )
        progress = Progress(iterations, desc=f"[{stage.name}] epoch {self.epoch + 1}/{total_epochs}",
                            count_word="iter", enabled=self.is_main, log_every=train.log_every, log=logger,
                            leave=True)
        sums: dict[str, torch.Tensor] = {}
        images = 0
        method.train(True)
        start = time.perf_counter()
        device = self.dist.device
        try:
            for it, batch in enumerate(self._batches(loaders, iterations)):
                batch = to_device(batch, device)
                step.begin(epoch=self.epoch, stage_epoch=self.stage_epoch, iteration=it,
                           global_step=self.global_step, iterations=iterations)
                with self._no_sync(step.is_update_step):
                    with step.autocast():
                        losses = method.training_step(batch, step)
                    if not method.manual_optimization:
                        step.optimize(losses, list(method.optimizers()))
                step.end()
                self.global_step += 1
                for name, value in losses.items():
                    value = (value.detach().float().mean() if isinstance(value, torch.Tensor)
                             else torch.tensor(float(value)))
                    sums[name] = sums[name] + value if name in sums else value
                first_batch = next(iter(batch.values()))
                images += (int(first_batch["img"].shape[0])
                           if isinstance(first_batch, dict) and "img" in first_batch else 0)
                postfix = None
                if progress.due():  # the losses' mean (a device sync) only when a line or the bar shows it
                    elapsed = max(time.perf_counter() - start, 1e-9)
                    loss_text = " ".join(f"{k}={float(v) / (it + 1):.4f}" for k, v in sums.items())
                    postfix = f"{loss_text} {images * self.dist.world_size / elapsed:.1f} img/s"
                progress.update(1, postfix)
        finally:
            progress.close()
        elapsed = max(time.perf_counter() - start, 1e-9)
        metrics = {f"loss/{k}": float(v) / iterations for k, v in sums.items()}
        metrics = distributed.all_reduce_mean(metrics, self.dist)
        for name, optimizer in method.optimizers().items():
            metrics[f"lr/{name}"] = float(optimizer.param_groups[0]["lr"])
        metrics["images_per_second"] = images * self.dist.world_size / elapsed
        if self.is_main:
            shown = " ".join(f"{k}={v:.4g}" for k, v in metrics.items())
            logger.info("[%s] epoch %d/%d done: %s", stage.name, self.epoch + 1, total_epochs, shown)
        return metrics


def train_run(
    method_cls: type[Method], config: Any, *, output_dir: Path, resume: bool = False, dataset: Any = None,
    typed: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Train ``method_cls`` with ``config``, writing ``output_dir``; returns ``metrics.json``'s content.

    ``resume`` continues from ``output_dir/checkpoints/last.pt`` (a finished run returns its
    metrics at once); without it, an existing run in ``output_dir`` is an :class:`EngineError`.
    """
    return Run(method_cls, config, output_dir, resume=resume, dataset=dataset, typed=typed).fit()
