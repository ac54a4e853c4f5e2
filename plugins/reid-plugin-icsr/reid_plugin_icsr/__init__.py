"""reid plugin: ICSR (ICIP 2023) unsupervised re-ID with intra-camera similarity refinement, as a reid plugin."""

__version__ = "0.1.0"
