"""reid plugin: CAMC (ACCV 2022), pose-guided cloth-changing person re-ID.

Public API: the method :class:`~reid_plugin_camc.method.CAMC`, its config
:class:`~reid_plugin_camc.config.CAMCConfig`, the network in ``model``, the HRNet in ``hrnet``
(loaded by ``pose_weights``) and the heatmap helpers in ``heatmaps``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
