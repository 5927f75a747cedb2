"""`inspect_ai.v1`: an inspect_ai dataset (JSONL) and a task file that replays and judges it."""

from generators.inspect_ai.writer import InspectAiExporter

__all__ = ["InspectAiExporter"]
