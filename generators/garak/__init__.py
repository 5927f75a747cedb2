"""`garak.v1`: a garak payload file and a multi-turn probe module that replays the conversations."""

from generators.garak.writer import GarakExporter

__all__ = ["GarakExporter"]
