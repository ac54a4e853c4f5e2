"""reid plugin: AIM (CVPR 2023) cloth-debiasing for cloth-changing person re-ID, as a reid plugin."""

__version__ = "0.1.0"
