"""`promptfoo.v1`: a promptfoo config whose tests carry each conversation as a chat list in vars."""

from generators.promptfoo.writer import PromptfooExporter

__all__ = ["PromptfooExporter"]
