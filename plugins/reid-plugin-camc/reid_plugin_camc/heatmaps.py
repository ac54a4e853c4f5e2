"""The pose branch's input: 17 COCO heatmaps at 1/4 of the image size, merged to 13 channels.

Two sources (``camc.pose_source``):

* ``hrnet`` (the paper): the raw output of the frozen HRNet-W48 on the same augmented,
  normalised image (no softmax, no normalisation; values can be slightly negative);
* ``keypoints``: Gaussian heatmaps rendered from the batch's keypoints (``batch["keypoints"]``,
  moved with the pixels by the core's transforms), as HRNet's training targets (sigma 2 heatmap
  pixels, peak 1); a joint with visibility 0 gives an empty map. It needs no weights and lets the
  demo run anywhere, but it is not CAMC's pose input.

:func:`merge_face` then keeps the 12 body joints and takes the element-wise max of the 5 face joints.
"""

from __future__ import annotations

import torch

NUM_JOINTS = 17
FACE_JOINTS = 5  # nose, left/right eye, left/right ear
MERGED_CHANNELS = NUM_JOINTS - FACE_JOINTS + 1  # 13
HEATMAP_STRIDE = 4
SIGMA = 2.0


def merge_face(heatmaps: torch.Tensor) -> torch.Tensor:
    """``[B, 17, h, w]`` -> ``[B, 13, h, w]``: channel 0 = max over joints 0-4, channels 1-12 = joints 5-16."""
    face = heatmaps[:, :FACE_JOINTS].amax(dim=1, keepdim=True)
    return torch.cat([face, heatmaps[:, FACE_JOINTS:]], dim=1)


def render_heatmaps(keypoints: torch.Tensor, height: int, width: int, stride: int = HEATMAP_STRIDE,
                    sigma: float = SIGMA) -> torch.Tensor:
    """Gaussian heatmaps ``[B, K, height/stride, width/stride]`` of keypoints ``[B, K, 3]``.

    Keypoints are in continuous image pixels (pixel ``i`` covers ``[i, i+1)``); heatmap cell ``u``
    covers image pixels ``[u*stride, (u+1)*stride)``, so its centre is at ``(u + 0.5) * stride``.
    """
    h, w = height // stride, width // stride
    kp = keypoints.float()
    cx = kp[..., 0] / stride - 0.5  # in heatmap cell-centre coordinates
    cy = kp[..., 1] / stride - 0.5
    ys = torch.arange(h, dtype=torch.float32, device=kp.device).view(1, 1, h, 1)
    xs = torch.arange(w, dtype=torch.float32, device=kp.device).view(1, 1, 1, w)
    d2 = (xs - cx[..., None, None]) ** 2 + (ys - cy[..., None, None]) ** 2
    maps = torch.exp(-d2 / (2 * sigma**2))
    visible = (kp[..., 2] > 0).float()[..., None, None]
    return maps * visible
