"""CAMC's network (``shared/methods/camc.md`` sections 1.1-1.7; checked against the official
``models/CAMC.py`` of QizaoWang/CAMC-CCReID).

Appearance tokens ``F_a`` (ResNet, last stride 1, a 16x8 map flattened row-major) and shape tokens
``F_s`` (merged keypoint heatmaps -> 4x4 patch embedding -> ReLU -> one Shape Semantics Embedding
layer) are gated jointly (co-attention alignment), attend to each other (mutual cross-attention),
and the mean over tokens of both streams goes through a BNNeck to a bias-free classifier. There is
no positional encoding anywhere, so token ``t`` is the same image cell in both streams.

``d`` is the backbone's ``out_channels`` (2048 for ResNet-50); every width derives from it, with
32 heads throughout.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from reid_plugin_camc.heatmaps import MERGED_CHANNELS

NUM_HEADS = 32
PATCH = 4
LN_EPS = 1e-6


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    b, n, c = x.shape
    return x.reshape(b, n, heads, c // heads).transpose(1, 2)  # [B, h, N, c/h]


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    return x.transpose(1, 2).flatten(2)  # [B, N, c]


def attention_logits(queries: torch.Tensor, keys: torch.Tensor, heads: int) -> torch.Tensor:
    """Per-head scaled dot products ``[B, h, N, N]`` (scale ``1/sqrt(d/h)``)."""
    q, k = _split_heads(queries, heads), _split_heads(keys, heads)
    return torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])


def attend(queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, heads: int) -> torch.Tensor:
    """Multi-head attention without any projection: ``concat_h softmax(Q_h K_h^T / sqrt(d/h)) V_h``.

    Computed by PyTorch's fused ``scaled_dot_product_attention`` (same scale, no mask, no dropout):
    the same values up to float rounding, without materialising the ``[B, h, N, N]`` maps (with 32
    heads of a small ``d`` those maps cost more than the backbone on a CPU).
    """
    q, k, v = (_split_heads(t, heads) for t in (queries, keys, values))
    return _merge_heads(F.scaled_dot_product_attention(q, k, v))


class PatchEmbed(nn.Module):
    """Heatmaps ``[B, 13, 64, 32]`` -> Conv2d(4x4, stride 4) -> tokens ``[B, 128, d]`` -> ReLU.

    Init: weight ~ N(0, sqrt(2 / (4*4*d))), bias at PyTorch's default.
    """

    def __init__(self, dim: int, in_channels: int = MERGED_CHANNELS) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=PATCH, stride=PATCH)
        nn.init.normal_(self.proj.weight, 0.0, math.sqrt(2.0 / (PATCH * PATCH * dim)))

    def forward(self, heatmaps: torch.Tensor) -> torch.Tensor:
        return F.relu(self.proj(heatmaps).flatten(2).transpose(1, 2))


def _vit_init(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.01)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class ShapeSemanticsEmbedding(nn.Module):
    """SSE: one post-LN encoder layer without dropout, positional encoding or output projection.

    ``u = LN(attn(zW_q, zW_k, zW_v) + z)``, ``F_s = LN(u + W2 ReLU(W1 u + b1) + b2)`` (W1: d -> 2d).
    Init: Linear weights trunc-normal(0.01), biases 0, LayerNorms 1 / 0 (eps 1e-6).
    """

    def __init__(self, dim: int, heads: int = NUM_HEADS) -> None:
        super().__init__()
        self.heads = heads
        self.w_q = nn.Linear(dim, dim, bias=False)
        self.w_k = nn.Linear(dim, dim, bias=False)
        self.w_v = nn.Linear(dim, dim, bias=False)
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.apply(_vit_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        u = self.norm1(attend(self.w_q(z), self.w_k(z), self.w_v(z), self.heads) + z)
        return self.norm2(u + self.fc2(F.relu(self.fc1(u))))


class CoAttentionGate(nn.Module):
    """Token-wise joint gating: ``G = sigmoid(W4 ReLU(W3 [F_a; F_s] + b3) + b4)`` (2d -> d/2 -> 2d);
    ``P = F_a (1 + G_a)``, ``S = F_s (1 + G_s)``. Init: Kaiming-normal (fan_out), biases 0."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.fc1 = nn.Linear(2 * dim, dim // 2)
        self.fc2 = nn.Linear(dim // 2, 2 * dim)
        for layer in (self.fc1, self.fc2):
            nn.init.kaiming_normal_(layer.weight, a=0, mode="fan_out")
            nn.init.zeros_(layer.bias)

    def gate(self, f_a: torch.Tensor, f_s: torch.Tensor) -> torch.Tensor:
        """``G`` in (0, 1), ``[B, N, 2d]``."""
        return torch.sigmoid(self.fc2(F.relu(self.fc1(torch.cat([f_a, f_s], dim=-1)))))

    def forward(self, f_a: torch.Tensor, f_s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g = self.gate(f_a, f_s)
        return f_a * g[..., : self.dim] + f_a, f_s * g[..., self.dim :] + f_s


class MutualCrossAttention(nn.Module):
    """Appearance queries shape and shape queries appearance, with no Q/K/V/O projections:
    ``Z_p = LN1(attn(P, S, S) + P)``, ``Z_s = LN2(attn(S, P, P) + S)``; 32 heads, LN eps 1e-6.
    Its only parameters are the two LayerNorms; there is no FFN."""

    def __init__(self, dim: int, heads: int = NUM_HEADS) -> None:
        super().__init__()
        self.heads = heads
        self.norm_p = nn.LayerNorm(dim, eps=LN_EPS)
        self.norm_s = nn.LayerNorm(dim, eps=LN_EPS)

    def forward(self, p: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z_p = self.norm_p(attend(p, s, s, self.heads) + p)
        z_s = self.norm_s(attend(s, p, p, self.heads) + s)
        return z_p, z_s


class CAMCModel(nn.Module):
    """The whole CAMC network without the pose estimator (its heatmaps are an input).

    ``forward(images, heatmaps)``: images ``[B, 3, 256, 128]``, merged heatmaps ``[B, 13, 64, 32]``;
    returns the logits ``[B, C]`` in train mode and the BN feature ``f_bn [B, 2d]`` in eval mode.

    Args:
        backbone: a feature-map network with ``out_channels`` (ResNet-50, last stride 1).
        num_classes: training identities.
        heads: attention heads (32; ``d`` must be divisible by it).
    """

    def __init__(self, backbone: nn.Module, num_classes: int, heads: int = NUM_HEADS) -> None:
        super().__init__()
        dim = int(backbone.out_channels)
        if dim % heads or dim % 2:
            raise ValueError(f"CAMC needs a backbone width divisible by {heads} heads, got {dim}")
        self.dim, self.heads = dim, heads
        self.backbone = backbone
        self.patch_embed = PatchEmbed(dim)
        self.sse = ShapeSemanticsEmbedding(dim, heads)
        self.co_attention = CoAttentionGate(dim)
        self.cross_attention = MutualCrossAttention(dim, heads)
        self.bottleneck = nn.BatchNorm1d(2 * dim)
        nn.init.normal_(self.bottleneck.weight, 1.0, 0.02)
        nn.init.zeros_(self.bottleneck.bias)
        self.bottleneck.bias.requires_grad_(False)
        self.classifier = nn.Linear(2 * dim, num_classes, bias=False)
        nn.init.normal_(self.classifier.weight, 0.0, 0.001)

    def appearance_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """``F_a [B, h*w, d]``: the backbone map flattened row-major."""
        return self.backbone(images).flatten(2).transpose(1, 2)

    def shape_tokens(self, heatmaps: torch.Tensor) -> torch.Tensor:
        """``F_s [B, N, d]``: patch embedding then SSE."""
        return self.sse(self.patch_embed(heatmaps))

    def fuse(self, f_a: torch.Tensor, f_s: torch.Tensor) -> torch.Tensor:
        """Gate, cross-attend and pool: the feature ``f [B, 2d]`` before the BNNeck."""
        if f_a.shape != f_s.shape:
            raise ValueError(
                f"appearance tokens {tuple(f_a.shape)} and shape tokens {tuple(f_s.shape)} differ: CAMC needs "
                "256x128 images (a 16x8 backbone map with last stride 1, 64x32 heatmaps)"
            )
        p, s = self.co_attention(f_a, f_s)
        z_p, z_s = self.cross_attention(p, s)
        return torch.cat([z_p, z_s], dim=-1).mean(dim=1)

    def forward(self, images: torch.Tensor, heatmaps: torch.Tensor) -> torch.Tensor:
        f = self.fuse(self.appearance_tokens(images), self.shape_tokens(heatmaps))
        f_bn = self.bottleneck(f)
        return self.classifier(f_bn) if self.training else f_bn
