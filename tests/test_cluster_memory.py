"""ClusterMemory: ClusterNCE loss, its gradient and the momentum update inside backward (icsr.md §13.7)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from reid_core.cluster import ClusterMemory, cluster_memory_logits, momentum_update


def _memory(k: int = 5, d: int = 8, momentum: float = 0.2, hard: bool = False, seed: int = 0) -> ClusterMemory:
    gen = torch.Generator().manual_seed(seed)
    memory = ClusterMemory(d, k, temp=0.05, momentum=momentum, hard=hard)
    memory.init_from(torch.randn(k, d, generator=gen))
    return memory


def test_init_rows_are_unit_norm_and_shape_is_checked() -> None:
    memory = _memory()
    assert torch.allclose(memory.features.norm(dim=1), torch.ones(5), atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        memory.init_from(torch.randn(4, 8))


def test_loss_and_gradient_match_manual_cross_entropy() -> None:
    memory = _memory(momentum=1.0)  # mu = 1: memory constant, so the manual reference is exact
    mem = memory.features.clone()
    x = torch.randn(6, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float32)
    y = torch.tensor([0, 1, 1, 3, 4, 0])
    q = F.normalize(x, dim=1).requires_grad_(True)
    loss = memory(q, y)
    logits = q.detach() @ mem.t() / 0.05
    manual = F.cross_entropy(logits, y)
    assert torch.allclose(loss, manual, atol=1e-5)
    loss.backward()
    # d/dq of mean CE through normalize: compare against the analytic (p - e_y) M / (tau B) pushed through
    # the normalisation Jacobian, which autograd computes for the reference graph.
    q_ref = q.detach().clone().requires_grad_(True)
    F.cross_entropy(F.normalize(q_ref, dim=1) @ mem.t() / 0.05, y).backward()
    assert torch.allclose(q.grad, q_ref.grad, atol=1e-5)
    # the gradient wrt the normalised features is (softmax - onehot) M / tau / B
    p = torch.softmax(logits, dim=1)
    expected = (p - F.one_hot(y, 5).float()) @ mem / 0.05 / y.numel()
    qn = q.detach().clone().requires_grad_(True)
    F.cross_entropy(cluster_memory_logits(qn, y, mem.clone(), 1.0) / 0.05, y).backward()
    assert torch.allclose(qn.grad, expected, atol=1e-5)


def test_gradcheck_of_logits_with_constant_memory() -> None:
    mem = F.normalize(torch.randn(4, 3, dtype=torch.float64), dim=1)
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 2])
    assert torch.autograd.gradcheck(lambda inp: cluster_memory_logits(inp, y, mem, 1.0), (x,))


def test_update_moves_present_rows_towards_q_and_keeps_absent_rows() -> None:
    memory = _memory(momentum=0.5)
    before = memory.features.clone()
    q = F.normalize(torch.randn(3, 8, generator=torch.Generator().manual_seed(2)), dim=1).requires_grad_(True)
    y = torch.tensor([1, 1, 3])
    memory(q, y).backward()
    after = memory.features
    assert torch.allclose(after.norm(dim=1), torch.ones(5), atol=1e-6)
    for row in (0, 2, 4):
        assert torch.equal(after[row], before[row])
    assert float(after[3] @ q[2].detach()) > float(before[3] @ q[2].detach())
    # sequential per-sample update of row 1
    ref = before[1].clone()
    for b in (0, 1):
        ref = F.normalize(0.5 * ref + 0.5 * q[b].detach(), dim=0)
    assert torch.allclose(after[1], ref, atol=1e-6)


def test_momentum_one_keeps_and_zero_replaces_with_last_sample() -> None:
    q = F.normalize(torch.randn(4, 8, generator=torch.Generator().manual_seed(3)), dim=1)
    y = torch.tensor([2, 0, 2, 2])
    memory = _memory(momentum=1.0)
    before = memory.features.clone()
    memory(q.clone().requires_grad_(True), y).backward()
    assert torch.equal(memory.features, before)
    memory = _memory(momentum=0.0)
    memory(q.clone().requires_grad_(True), y).backward()
    assert torch.allclose(memory.features[2], q[3], atol=1e-6)
    assert torch.allclose(memory.features[0], q[1], atol=1e-6)


def test_hard_variant_uses_the_least_similar_sample() -> None:
    memory = _memory(momentum=0.0, hard=True)
    m1 = memory.features[1].clone()
    close = F.normalize(m1 + 0.01 * torch.ones(8), dim=0)
    far = F.normalize(-m1 + 0.3 * torch.ones(8), dim=0)
    q = torch.stack([far, close, close]).requires_grad_(True)
    memory(q, torch.tensor([1, 1, 1])).backward()
    assert torch.allclose(memory.features[1], far, atol=1e-6)


def test_momentum_update_function_and_bad_targets() -> None:
    mem = F.normalize(torch.randn(3, 4), dim=1)
    q = F.normalize(torch.randn(1, 4), dim=1)
    momentum_update(mem, q, torch.tensor([0]), 0.0)
    assert torch.allclose(mem[0], q[0], atol=1e-6)
    memory = _memory()
    with pytest.raises(ValueError, match="relabel"):
        memory(torch.randn(2, 8), torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="temp"):
        ClusterMemory(4, 2, temp=0.0)


def test_loss_is_float32_under_autocast() -> None:
    memory = _memory(momentum=0.5)
    q = torch.randn(4, 8, dtype=torch.bfloat16, requires_grad=True)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        loss = memory(q, torch.tensor([0, 1, 2, 0]))
    assert loss.dtype == torch.float32
    loss.backward()
    assert q.grad is not None and q.grad.dtype == torch.bfloat16
    assert memory.features.dtype == torch.float32


def _ddp_worker(rank: int, init: str, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
    try:
        memory = _memory(momentum=0.3)  # same seed: same start on both ranks
        gen = torch.Generator().manual_seed(10 + rank)
        q = F.normalize(torch.randn(3, 8, generator=gen), dim=1).requires_grad_(True)
        memory(q, torch.tensor([rank, 2, 4])).backward()
        torch.save({"memory": memory.features, "q": q.detach()}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_distributed_update_keeps_ranks_equal(tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    out = str(tmp_path / "mem")
    mp.spawn(_ddp_worker, args=(f"file://{tmp_path / 'init'}", out), nprocs=2, join=True)
    r0, r1 = (torch.load(f"{out}.{r}", weights_only=True) for r in (0, 1))
    assert torch.equal(r0["memory"], r1["memory"])
    reference = _memory(momentum=0.3)
    momentum_update(reference.features, torch.cat([r0["q"], r1["q"]]), torch.tensor([0, 2, 4, 1, 2, 4]), 0.3)
    assert torch.allclose(r0["memory"], reference.features, atol=1e-6)
