"""Data records, image datasets, transforms, samplers and loaders."""

from reid_core.data.sample import MODALITIES, Sample

__all__ = ["MODALITIES", "Sample"]
