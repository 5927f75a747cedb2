"""The one place feed ingestion touches the relevance filter and the grouper.

`ingest.relevance` scores entries ("does this report an AI incident or hazard?") and
`ingest.grouping` decides which incident a report joins. Both are imported lazily, here only, so
the feed poller works (entries are stored, `unscored`) where they are not installed, and a later
run scores the backlog.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

__all__ = [
    "FIT_MAX_REPORTS",
    "EntityFinder",
    "Judge",
    "Match",
    "Pipeline",
    "Verdict",
    "load_pipeline",
]

# The grouper's IDF comes from at most this many of the store's candidate reports (an even
# sample), and it caches at most 20,000 vectors: memory stays bounded for a large store.
FIT_MAX_REPORTS = 20_000


@dataclass(frozen=True)
class Verdict:
    """The relevance filter's judgement of one entry."""

    score: float
    relevant: bool
    evidence: list[str]


@dataclass(frozen=True)
class Match:
    """One incident a report resembles: its key, the grouper's score and reasons."""

    key: int
    score: float
    reasons: list[str]


class Judge(Protocol):
    """What feed ingestion needs of the relevance filter and the grouper together."""

    name: str

    def score_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]: ...

    def best_matches(self, item: Any, candidates: Sequence[Any], k: int = 5) -> list[Match]: ...

    def decide(self, item: Any, candidates: Sequence[Any]) -> Match | None: ...

    def item(
        self,
        key: int,
        title: str,
        text: str,
        urls: frozenset[str],
        date: dt.date | None,
        entities: frozenset[str],
    ) -> Any: ...


class Pipeline:
    """`ingest.relevance`'s default filter (knowing the store's entities) and `ingest.grouping`."""

    def __init__(self, entity_names: Sequence[str]) -> None:
        from ingest.grouping import Grouper, GroupingItem, extract_entities
        from ingest.relevance import load_default_filter

        self._filter = load_default_filter().with_entities(list(entity_names))
        self._grouper = Grouper()
        self._item = GroupingItem
        self._extract_entities = extract_entities
        self.name = f"{self._filter.name}@{self._filter.version}"

    def score_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        return [
            Verdict(float(r.score), bool(r.relevant), list(r.evidence))
            for r in self._filter.score_many(list(pairs))
        ]

    def item(
        self,
        key: int,
        title: str,
        text: str,
        urls: frozenset[str],
        date: dt.date | None,
        entities: frozenset[str],
    ) -> Any:
        return self._item(key=key, title=title, text=text, urls=urls, date=date, entities=entities)

    def best_matches(self, item: Any, candidates: Sequence[Any], k: int = 5) -> list[Match]:
        self._grouper.fit_if_grown(candidates, max_items=FIT_MAX_REPORTS)
        return [
            Match(cast(int, m.key), float(m.score), list(m.reasons))
            for m in self._grouper.best_matches(item, list(candidates), k=k)
        ]

    def decide(self, item: Any, candidates: Sequence[Any]) -> Match | None:
        # Fitted on the store's candidates (again only when they have doubled), the grouper
        # vectorises each candidate once per run instead of all of them for every entry.
        self._grouper.fit_if_grown(candidates, max_items=FIT_MAX_REPORTS)
        match = self._grouper.decide(item, list(candidates))
        return (
            None
            if match is None
            else Match(cast(int, match.key), float(match.score), list(match.reasons))
        )


def load_pipeline(entity_names: Sequence[str]) -> Judge | None:
    """The relevance filter and grouper, or None when `ingest.relevance` is not installed."""
    try:
        return Pipeline(entity_names)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(("ingest.relevance", "ingest.grouping")):
            return None
        raise


class EntityFinder:
    """Finds known entity names in a text (whole words, case-insensitive), for grouping."""

    def __init__(self, names: Sequence[str]) -> None:
        wanted = sorted({n.strip() for n in names if len(n.strip()) >= 3}, key=len, reverse=True)
        self._by_lower = {n.lower(): n for n in wanted}
        self._pattern = (
            re.compile(r"\b(?:" + "|".join(re.escape(n.lower()) for n in wanted) + r")\b")
            if wanted
            else None
        )

    def find(self, text: str) -> frozenset[str]:
        if self._pattern is None or not text:
            return frozenset()
        return frozenset(self._by_lower[m] for m in self._pattern.findall(text.lower()))
