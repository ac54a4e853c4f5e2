"""The AIM iteration driven directly (no engine loop): gates, order, schedules, test features.

A tiny ResNet-18 (width 8) on 32x16 images keeps every test well under a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import reid_plugin_aim.method as aim_method
import torch
from reid_plugin_aim.config import PROFILES, AIMConfig
from reid_plugin_aim.method import AIM, MODULE_NAMES

from reid_core import config as cfg
from reid_core.data.sample import Sample
from reid_core.datasets.base import ReidDataset
from reid_core.engine.errors import NonFiniteLossError
from reid_core.engine.step import StepRunner
from reid_core.methods import Stage

NUM_IDS, CLOTHES_PER_ID = 4, 2


class FakeContext:
    """The parts of the engine's RunContext that AIM uses, on CPU without DDP."""

    def __init__(self, config: Any, dataset: ReidDataset) -> None:
        self.config = config
        self.dataset = dataset
        self.device = torch.device("cpu")
        self.rank, self.world_size, self.is_main = 0, 1, True
        self.output_dir = Path(".")

    def prepare(self, module: torch.nn.Module, **kwargs: Any) -> torch.nn.Module:
        return module

    def log(self, message: str) -> None:
        pass


def make_dataset() -> ReidDataset:
    train = [
        Sample(path=f"/x/{pid}_{clo}_{i}.jpg", pid=pid, camid=i % 2, clothes_id=pid * CLOTHES_PER_ID + clo)
        for pid in range(NUM_IDS)
        for clo in range(CLOTHES_PER_ID)
        for i in range(2)
    ]
    return ReidDataset(train, [], [])


def make_method(**aim: Any) -> AIM:
    torch.manual_seed(0)
    run_cls = cfg.run_config_class("aim", AIMConfig)
    overrides = {"aim": {"backbone": "resnet18", "width": 8, "pretrained": "none", "part_dim": 8, **aim}}
    config = cfg.resolve(run_cls, PROFILES["quick"], overrides)
    method = AIM(config, FakeContext(config, make_dataset()))
    method.setup_stage(Stage("train", config.aim.epochs))
    method.train(True)
    return method


def make_batch(seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    pids = torch.arange(NUM_IDS).repeat_interleave(2)
    clothes = pids * CLOTHES_PER_ID + torch.tensor([0, 1] * NUM_IDS)
    return {"img": torch.randn(len(pids), 3, 32, 16, generator=g), "pid": pids, "clothes_id": clothes}


def run_step(method: AIM, epoch: int) -> dict[str, torch.Tensor]:
    runner = StepRunner(method.optimizers, amp="off", device=torch.device("cpu"))
    runner.begin(epoch=epoch, stage_epoch=epoch, iteration=0, global_step=0, iterations=10)
    out = method.training_step(make_batch(), runner)
    runner.end()
    return out


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module, keys: str = "") -> bool:
    after = module.state_dict()
    return any(not torch.equal(before[k], after[k]) for k in before if keys in k)


def test_method_declares_manual_optimization_cosine_and_cloth_changing_default() -> None:
    assert AIM.manual_optimization is True
    assert AIM.eval_metric == "cosine"
    assert AIM.default_dataset == "synthetic-cc"
    assert set(AIM.profiles) == {"paper", "quick"}


def test_setup_registers_the_six_modules_three_optimizers_two_schedulers() -> None:
    method = make_method()
    assert tuple(method.modules()) == MODULE_NAMES
    assert set(method.optimizers()) == {"main", "bias", "clothes"}
    assert set(method.schedulers()) == {"main", "bias"}
    ids = {id(p) for p in method.optimizers()["main"].param_groups[0]["params"]}
    for name in ("model", "fuse", "classifier"):
        assert all(id(p) in ids for p in method.modules()[name].parameters())
    bias = {id(p) for p in method.optimizers()["bias"].param_groups[0]["params"]}
    for name in ("model2", "clothes_classifier2"):
        assert all(id(p) in bias for p in method.modules()[name].parameters())
    clothes = method.optimizers()["clothes"].param_groups[0]["params"]
    assert [id(p) for p in clothes] == [id(p) for p in method.modules()["clothes_classifier"].parameters()]
    assert method.pid2clothes.shape == (NUM_IDS, NUM_IDS * CLOTHES_PER_ID)
    assert method.pid2clothes.sum(1).tolist() == [CLOTHES_PER_ID] * NUM_IDS


def test_before_start_epoch_only_id_and_clothing_losses_and_delta_a_is_frozen() -> None:
    method = make_method(start_epoch=25)
    delta_a, fuse = snapshot(method.clothes_classifier), snapshot(method.fuse)
    model2, model = snapshot(method.model2), snapshot(method.model)
    out = run_step(method, epoch=24)
    assert set(out) == {"clothes_a", "clothes_c", "id"}
    assert not changed(delta_a, method.clothes_classifier)
    assert not changed(fuse, method.fuse, "weight") and not changed(fuse, method.fuse, "linear")
    assert changed(fuse, method.fuse, "running_mean")  # o3 is computed: only BN statistics move
    assert changed(model2, method.model2, "weight")  # L_cloC trains the bias branch from epoch 0
    assert changed(model, method.model, "weight")


def test_from_start_epoch_every_aim_term_runs_and_every_module_trains() -> None:
    method = make_method(start_epoch=25)
    before = {name: snapshot(m) for name, m in method.modules().items()}
    out = run_step(method, epoch=25)
    assert set(out) == {"clothes_a", "clothes_c", "kl", "id", "cal", "adv"}
    assert all(torch.isfinite(v) for v in out.values())
    for name, module in method.modules().items():
        assert changed(before[name], module, "weight"), name


def test_kl_uses_delta_a_after_its_update_of_the_same_iteration(monkeypatch: pytest.MonkeyPatch) -> None:
    method = make_method(start_epoch=0)
    initial = method.clothes_classifier.weight.detach().clone()
    seen: list[bool] = []
    real = aim_method.symmetric_kl

    def spy(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        seen.append(not torch.equal(method.clothes_classifier.weight.detach(), initial))
        return real(p, q)

    monkeypatch.setattr(aim_method, "symmetric_kl", spy)
    run_step(method, epoch=0)
    assert seen == [True]


def test_kl_gradient_reaches_only_the_bias_branch(monkeypatch: pytest.MonkeyPatch) -> None:
    method = make_method(start_epoch=0, k_kl=1.0)
    grads: dict[str, bool] = {}
    real_optimize = StepRunner.optimize

    def spy(self: StepRunner, losses: dict[str, torch.Tensor], names: Any) -> torch.Tensor:
        if names == "bias":
            total = sum(losses.values())
            params = {n: list(m.parameters()) for n, m in method.modules().items()}
            for name, ps in params.items():
                gs = torch.autograd.grad(total, ps, retain_graph=True, allow_unused=True)
                grads[name] = any(g is not None and g.abs().sum() > 0 for g in gs)
        return real_optimize(self, losses, names)

    monkeypatch.setattr(StepRunner, "optimize", spy)
    run_step(method, epoch=0)
    assert grads == {
        "model": False,
        "model2": True,
        "fuse": False,
        "classifier": False,
        "clothes_classifier": False,
        "clothes_classifier2": True,
    }


def test_non_finite_aim_loss_is_reported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    method = make_method(start_epoch=0)
    monkeypatch.setattr(aim_method, "symmetric_kl", lambda p, q: (p * float("nan")).sum())
    with pytest.raises(NonFiniteLossError, match="'kl'") as info:
        run_step(method, epoch=0)
    assert info.value.terms == ["kl"]


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")
def test_learning_rate_schedules_follow_the_paper() -> None:
    method = make_method(epochs=100, milestones=(20, 40), gamma=0.1, lr=3.5e-4)
    stage = Stage("train", 100)
    for epoch in range(60):
        for name in ("main", "bias"):
            lr = method.optimizers()[name].param_groups[0]["lr"]
            expected = 3.5e-4 * 0.1 ** sum(m <= epoch for m in (20, 40))
            assert lr == pytest.approx(expected, rel=1e-9), (name, epoch)
        assert method.optimizers()["clothes"].param_groups[0]["lr"] == pytest.approx(3.5e-4)
        for optimizer in method.optimizers().values():
            assert optimizer.param_groups[0]["weight_decay"] == pytest.approx(5e-4)
        method.on_epoch_end(epoch, stage)


def test_gates_switch_exactly_at_the_start_epoch() -> None:
    method = make_method(start_epoch=25)
    assert [method.active(e) for e in (0, 24, 25, 99)] == [False, False, True, True]


def test_test_features_are_id_branch_only_normalised_and_flip_invariant() -> None:
    method = make_method()
    run_step(method, epoch=0)
    method.train(False)
    batch = make_batch()
    feats = method.extract_features(batch)
    assert feats.shape == (8, method.model.feature_dim)
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(8))
    flipped = method.extract_features({"img": torch.flip(batch["img"], dims=[3])})
    torch.testing.assert_close(feats, flipped, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        _, f = method.model(batch["img"])
        _, f_flip = method.model(torch.flip(batch["img"], dims=[3]))
    torch.testing.assert_close(feats, torch.nn.functional.normalize(f + f_flip, dim=1))
    # the clothing branch plays no part: changing it leaves the features unchanged
    with torch.no_grad():
        for p in method.model2.parameters():
            p.add_(1.0)
    torch.testing.assert_close(method.extract_features(batch), feats)


def test_training_without_clothes_labels_is_a_clear_error() -> None:
    run_cls = cfg.run_config_class("aim", AIMConfig)
    config = cfg.resolve(run_cls, PROFILES["quick"], {"aim": {"width": 8, "pretrained": "none"}})
    dataset = ReidDataset([Sample(path="/x/a.jpg", pid=0, camid=0)], [], [])
    method = AIM(config, FakeContext(config, dataset))
    with pytest.raises(aim_method.AIMError, match="clothes labels"):
        method.setup_stage(Stage("train", 1))


def test_optional_pair_loss_is_a_weighted_cosine_triplet_on_f() -> None:
    assert make_method().pair_loss is None  # weight 0 (the paper): not computed
    method = make_method(start_epoch=25, pair_loss_weight=0.5, pair_margin=0.3)
    assert method.pair_loss.metric == "cosine"
    out = run_step(method, epoch=0)
    assert set(out) == {"clothes_a", "clothes_c", "id", "pair"}
    assert torch.isfinite(out["pair"]) and out["pair"] >= 0


def test_delta_a_gradients_accumulate_over_micro_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    method = make_method(start_epoch=0)
    batches = [make_batch(1), make_batch(2)]
    weight = method.clothes_classifier.weight
    expected = torch.zeros_like(weight)
    for batch in batches:  # nothing steps before the second micro-batch: same weights for both
        _, f = method.model(batch["img"])
        loss = method.clothes_loss(method.clothes_classifier(f.detach()), batch["clothes_id"])
        expected += torch.autograd.grad(loss, weight)[0] / len(batches)
    seen: list[torch.Tensor] = []
    optimizer = method.optimizers()["clothes"]
    real_step = optimizer.step
    monkeypatch.setattr(optimizer, "step", lambda *a, **k: (seen.append(weight.grad.clone()), real_step(*a, **k))[1])
    runner = StepRunner(method.optimizers, amp="off", device=torch.device("cpu"), accumulate=2)
    for iteration, batch in enumerate(batches):
        runner.begin(epoch=0, stage_epoch=0, iteration=iteration, global_step=iteration, iterations=2)
        method.training_step(batch, runner)
        runner.end()
    assert len(seen) == 1  # one delta_A step for the two micro-batches
    torch.testing.assert_close(seen[0], expected, rtol=1e-4, atol=1e-7)


def test_adversarial_and_kl_terms_send_no_gradient_to_delta_a() -> None:
    method = make_method(start_epoch=0)
    runner = StepRunner(method.optimizers, amp="off", device=torch.device("cpu"), accumulate=4)
    runner.begin(epoch=0, stage_epoch=0, iteration=0, global_step=0, iterations=4)
    batch = make_batch()
    method.training_step(batch, runner)  # not an update step: gradients stay
    _, f = method.model(batch["img"])
    loss = method.clothes_loss(method.clothes_classifier(f.detach()), batch["clothes_id"]) / 4
    only_clo_a = torch.autograd.grad(loss, method.clothes_classifier.weight)[0]
    torch.testing.assert_close(method.clothes_classifier.weight.grad, only_clo_a, rtol=1e-4, atol=1e-8)
