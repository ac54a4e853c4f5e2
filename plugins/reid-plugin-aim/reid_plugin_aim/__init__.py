"""reid plugin: AIM (CVPR 2023) cloth-debiasing for cloth-changing person re-ID.

Public API: the method class :class:`~reid_plugin_aim.method.AIM`, its config
:class:`~reid_plugin_aim.config.AIMConfig`, and the building blocks in ``model`` and ``losses``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
