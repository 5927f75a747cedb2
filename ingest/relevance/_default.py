"""The default filter, built from the files the project ships in ``data/relevance/``."""

from __future__ import annotations

import threading

from incidentdb._data import bundled_data
from ingest.relevance._filter import RelevanceFilter, read_examples, read_terms

__all__ = ["build_default_filter", "load_default_filter"]

_lock = threading.Lock()
_default: RelevanceFilter | None = None


def build_default_filter() -> RelevanceFilter:
    """Fit a new filter on the shipped examples and term lists (deterministic, about a second)."""
    folder = bundled_data("relevance")
    return RelevanceFilter(
        ai_terms=read_terms(folder / "ai_terms.txt"),
        harm_terms=read_terms(folder / "harm_terms.txt"),
        system_terms=read_terms(folder / "system_terms.txt"),
        entities=read_terms(folder / "entities.txt"),
    ).fit(read_examples(folder / "train.jsonl"))


def load_default_filter() -> RelevanceFilter:
    """The default filter, built on first use and shared afterwards (scoring never changes it).

    It is trained only on ``data/relevance/train.jsonl`` (examples the incidentdb developers
    wrote), so the same package always gives the same scores.
    """
    global _default
    with _lock:
        if _default is None:
            _default = build_default_filter()
        return _default
