"""reid plugin: infrared-visible cross-modality re-ID.

Two methods: ``ivreid`` (the IV-ReID seed, linyq17/IV-REID: one shared ResNet-50 and two
modality heads teaching each other through a detached mutual KL) and ``agw`` (the field's
standard two-stream baseline, mangye16/Cross-Modal-Re-ID-baseline). Public API: the method
classes :class:`~reid_plugin_ivreid.method.IVReID` and :class:`~reid_plugin_ivreid.agw.AGW`,
their configs, the building blocks in ``model``, ``agw_model`` and ``losses``, and the
official-checkpoint converter in ``official``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
