"""A small, deterministic relevance filter and grouper for the feed-ingestion tests.

The real ones (`ingest.relevance`, `ingest.grouping`) are statistical; these follow plain rules
so a test can say exactly which entry is relevant and which incident a report joins:

- relevant: the title or text names AI (``ai``, ``chatbot``, ``algorithm``) and a harm word;
- a report joins the candidate sharing a URL with it, else the one whose title, or a line of
  whose text (its reports' titles), shares at least half of its words (Jaccard ≥ 0.5).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.rss._pipeline import Match, Verdict

AI_WORDS = {"ai", "chatbot", "algorithm"}
HARM_WORDS = {"harms", "harm", "failed", "bias", "crash", "lawsuit"}
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Item:
    key: int
    title: str
    text: str
    urls: frozenset[str]
    date: dt.date | None
    entities: frozenset[str]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


class KeywordJudge:
    name = "keyword-test@1"

    def score_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        out = []
        for title, text in pairs:
            words = _words(f"{title} {text}")
            evidence = sorted(words & (AI_WORDS | HARM_WORDS))
            relevant = bool(words & AI_WORDS) and bool(words & HARM_WORDS)
            out.append(Verdict(0.9 if relevant else 0.1, relevant, evidence))
        return out

    def item(
        self,
        key: int,
        title: str,
        text: str,
        urls: frozenset[str],
        date: dt.date | None,
        entities: frozenset[str],
    ) -> Item:
        return Item(key, title, text, urls, date, entities)

    def best_matches(self, item: Item, candidates: Sequence[Item], k: int = 5) -> list[Match]:
        scored = []
        for cand in candidates:
            if item.urls & cand.urls:
                scored.append(Match(cand.key, 1.0, ["same URL"]))
                continue
            a = _words(item.title)
            score = 0.0
            for line in [cand.title, *cand.text.splitlines()]:
                b = _words(line)
                score = max(score, len(a & b) / len(a | b) if a | b else 0.0)
            if score > 0:
                scored.append(Match(cand.key, score, [f"title overlap {score:.2f}"]))
        scored.sort(key=lambda m: (-m.score, m.key))
        return scored[:k]

    def decide(self, item: Item, candidates: Sequence[Item]) -> Match | None:
        best = self.best_matches(item, candidates, k=1)
        return best[0] if best and best[0].score >= 0.5 else None


def run_worker(db_url: str, worker_id: str, concurrency: int) -> None:
    """One worker process of the scale-out test: a full `ingest feeds` run with this judge."""
    from incidentdb import Store

    with Store(db_url) as store:
        store.ingest_feeds(
            worker_id=worker_id, concurrency=concurrency, batch=4, judge=KeywordJudge()
        )
