"""Looking at a trained model: ranked galleries (``reid visualize``) and curves (``reid plot``).

See ``docs/after-training.md``.
"""
