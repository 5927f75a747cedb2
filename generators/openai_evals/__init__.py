"""`openai-evals.v1`: JSONL rows for the OpenAI Evals API and the eval definition with graders."""

from generators.openai_evals.writer import OpenAiEvalsExporter

__all__ = ["OpenAiEvalsExporter"]
