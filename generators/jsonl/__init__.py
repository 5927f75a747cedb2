"""`jsonl.v1`: incidentdb's own case format, one TestCase per line, lossless."""

from generators.jsonl.writer import JsonlExporter

__all__ = ["JsonlExporter"]
