"""reid plugin: camera-aware invariance learning and cross-domain mixup (Luo, Song, Zhang, ECCV 2020)."""

__version__ = "0.1.0"
