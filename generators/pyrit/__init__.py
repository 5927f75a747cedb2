"""`pyrit.v1`: a PyRIT SeedDataset YAML, one prompt group (with one objective) per case."""

from generators.pyrit.writer import PyritExporter

__all__ = ["PyritExporter"]
