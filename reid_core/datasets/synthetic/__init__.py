"""Procedurally generated persons: the embedded default data and the fixture maker's images."""
