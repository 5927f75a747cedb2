"""Grouping reports into incidents: which incident, if any, does a new report belong to?

A report joins the incident of the most similar earlier report when the similarity is high
enough; otherwise it opens a candidate incident. Similarity of two reports is

- 1.0 when they share a canonical URL (the same article reached twice: always the same incident);
- else the cosine of their TF-IDF vectors (title, twice, and text; words), plus
  ``entity_weight`` times the Jaccard overlap of their entity names, and halved when both have a
  date and the dates are further apart than ``window_days``.

An incident's score against a report is the best score of its reports (single link): news about
one incident drifts over weeks, so a new article often resembles the latest one more than the
first.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Self

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from incidentdb._text import canonical_url

__all__ = ["GroupMatch", "Grouper", "GroupingItem", "extract_entities"]


@dataclass(frozen=True)
class GroupingItem:
    """A report, or a report already in an incident, as the grouper sees it.

    Attributes:
        key: what the caller uses to find it again (a report id, an incident id, anything).
        urls: canonical URLs of the article (several when it was reached through redirects).
        date: publication date, when known.
        entities: names of the organisations, products and people it mentions (see
            :func:`extract_entities`), compared case-insensitively.
    """

    key: object
    title: str
    text: str
    urls: frozenset[str] = frozenset()
    date: dt.date | None = None
    entities: frozenset[str] = frozenset()


@dataclass(frozen=True)
class GroupMatch:
    """A candidate that an item may join, with why.

    Attributes:
        key: the candidate's key.
        score: 1.0 for a URL match, else text similarity plus entity overlap (see module doc),
            at most 0.99.
        reasons: human-readable parts of the score, e.g. ``text similarity 0.41``.
    """

    key: object
    score: float
    reasons: list[str]


# Capitalised words, acronyms and the short lower-case joints inside names ("Bank of America").
_NAME = re.compile(
    r"\b(?:[A-Z][\w&'’.-]*[\w]|[A-Z]{2,})(?:\s+(?:of|de|la|du|van|von|der|for|&)?\s*"
    r"(?:[A-Z][\w&'’.-]*[\w]|[A-Z]{2,}))*"
)
_NOT_NAMES = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "last",
        "more",
        "most",
        "my",
        "new",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "over",
        "she",
        "so",
        "some",
        "than",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "up",
        "us",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "after",
        "before",
        "about",
        "also",
        "all",
        "any",
        "could",
        "did",
        "do",
        "does",
        "had",
        "has",
        "have",
        "may",
        "might",
        "must",
        "now",
        "one",
        "only",
        "other",
        "said",
        "says",
        "should",
        "since",
        "still",
        "such",
        "two",
        "very",
        "would",
        "yes",
        "here",
        "just",
        "many",
        "much",
        "first",
        "according",
        "however",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "mr",
        "mrs",
        "ms",
        "dr",
        "photo",
        "image",
        "getty",
        "reuters",
        "ap",
        "read",
        "share",
        "updated",
        "published",
    ]
)


_POSSESSIVE = re.compile(r"['’]s\b")


def _inflected_words() -> dict[str, str]:
    from ingest.relevance._nlp import inflected_forms

    return inflected_forms()


def extract_entities(text: str, *, limit: int = 40) -> frozenset[str]:
    """Names in a text by a capitalisation rule: runs of capitalised words and acronyms.

    Lower-cased, without leading function words ("The Guardian" gives "guardian"); single words
    that are common sentence openers are dropped. Crude but fast, and good enough to tell that two
    articles are about the same company, product or person.

    >>> sorted(extract_entities("The Boeing 737 MAX crashed, Lion Air's pilots said on Monday."))
    ['boeing', 'lion air', 'max']
    """
    inflected = _inflected_words()
    counts: dict[str, int] = {}
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        while words and words[0].lower() in _NOT_NAMES:
            words = words[1:]
        while words and words[-1].lower() in _NOT_NAMES:
            words = words[:-1]
        if not words:
            continue
        name = _POSSESSIVE.sub("", " ".join(words).lower()).strip(".'’")
        if len(name) < 2 or name.isdigit():
            continue
        # A lone inflected English word ("Fraudsters", "Cloned") is a capitalised sentence
        # opener, not a name; the lemma table knows inflected forms, not brand names.
        if " " not in name and name in inflected:
            continue
        counts[name] = counts.get(name, 0) + 1
    # The most frequent names say what the article is about; the long tail is noise.
    ranked = sorted(counts, key=lambda n: (-counts[n], n))[:limit]
    return frozenset(ranked)


class Grouper:
    """Decides which incident a report belongs to, and groups a stream of reports.

    Args:
        threshold: a report joins a candidate whose score is at least this; else it opens a new
            group. 0.2 (with ``entity_weight`` 1.0) sits on the plateau of pairwise F1 on AIID's
            real linked reports (0.90–0.97 for thresholds 0.15–0.25, 0.87 at 0.3; see
            ``incidentdb eval grouping``). Word bigrams and longer texts did no better.
        window_days: reports published further apart than this are less likely to be about the
            same event; their score is halved.
        entity_weight: weight of the Jaccard overlap of entity names in the score.
        max_chars: only this much of each text is compared (the lead carries the event).
    """

    def __init__(
        self,
        *,
        threshold: float = 0.2,
        window_days: int = 365,
        entity_weight: float = 1.0,
        max_chars: int = 5000,
    ) -> None:
        self.threshold = threshold
        self.window_days = window_days
        self.entity_weight = entity_weight
        self.max_chars = max_chars

    # -- one report against candidates ---------------------------------------------------------

    def best_matches(
        self, item: GroupingItem, candidates: Sequence[GroupingItem], k: int = 5
    ) -> list[GroupMatch]:
        """The ``k`` best candidates for ``item``, best first (ties keep candidate order).

        Candidates that share a key are one group (several reports of one incident): the group
        scores as its best report.
        """
        if not candidates:
            return []
        if hasattr(self, "vectorizer_"):
            sims = self._similarity_to(item, candidates)
        else:
            sims = self._similarity([*candidates, item])[-1, :-1]
        # Scores first, reasons only for the k best: building them is most of the cost.
        best: dict[object, tuple[float, int]] = {}
        for j, cand in enumerate(candidates):
            score = round(self._score(item, cand, float(sims[j])), 4)
            held = best.get(cand.key)
            if held is None or score > held[0]:
                best[cand.key] = (score, j)
        ranked = sorted(best.values(), key=lambda held: -held[0])[:k]
        return [self._match(item, candidates[j], float(sims[j])) for _, j in ranked]

    def decide(self, item: GroupingItem, candidates: Sequence[GroupingItem]) -> GroupMatch | None:
        """The candidate ``item`` should join, or None when it should open a new incident.

        A shared canonical URL always wins; otherwise the best candidate must reach
        ``threshold``.
        """
        matches = self.best_matches(item, candidates, k=1)
        if matches and matches[0].score >= self.threshold:
            return matches[0]
        return None

    # -- a stream ------------------------------------------------------------------------------

    def cluster(self, items: Sequence[GroupingItem]) -> list[list[object]]:
        """Group a stream online, in the given order, as an ingest would: each item joins the
        best earlier group that reaches the threshold, else starts its own.

        IDF weights come from the whole stream, as an ingest's would come from the store.

        Returns:
            Groups of keys, in the order their first item arrived; keys keep stream order.
        """
        if not items:
            return []
        try:
            matrix = self._vectorizer().fit_transform([self._text(it) for it in items]).tocsr()
        except ValueError:  # every text empty or only stop words: only URLs can join
            matrix = sparse.csr_matrix((len(items), 1))
        url_owner: dict[str, int] = {}
        group_of: list[int] = []
        groups: list[list[int]] = []
        for i, item in enumerate(items):
            joined = self._url_group(item, url_owner, group_of)
            if joined is None and groups:
                # One row of similarities at a time: memory grows with the stream, not its square.
                sims = np.asarray((matrix[:i] @ matrix[i].T).toarray()).ravel()
                best_group, best_score = -1, -1.0
                for g, members in enumerate(groups):
                    score = max(self._score(item, items[j], float(sims[j])) for j in members)
                    if score > best_score:
                        best_group, best_score = g, score
                if best_score >= self.threshold:
                    joined = best_group
            if joined is None:
                joined = len(groups)
                groups.append([])
            groups[joined].append(i)
            group_of.append(joined)
            for url in _canonical(item.urls):
                url_owner.setdefault(url, i)
        return [[items[i].key for i in members] for members in groups]

    # -- internals -----------------------------------------------------------------------------

    def _url_group(
        self, item: GroupingItem, url_owner: dict[str, int], group_of: list[int]
    ) -> int | None:
        for url in sorted(_canonical(item.urls)):
            owner = url_owner.get(url)
            if owner is not None:
                return group_of[owner]
        return None

    def fit(self, items: Iterable[GroupingItem], *, max_items: int = 20_000) -> Self:
        """Learn IDF weights from a corpus (e.g. the store's reports); returns self.

        Optional. Unfitted, :meth:`best_matches` weighs words by the candidates it is given at
        each call, so each call vectorises every candidate again; fitted, it weighs them by this
        corpus and keeps the vector of every item it has seen, so a long ingest vectorises each
        candidate once. A word the corpus never had weighs as much as the rarest (an IDF of
        ``1 + ln(n + 1)``), so a new story's own words still count. :meth:`cluster` always
        weighs by the stream it groups. A fitted grouper keeps scratch state between calls:
        use one per thread.

        Args:
            items: the corpus, read once as a stream.
            max_items: at most this many items are read (the first ones): IDF settles after a
                few thousand documents, and memory stays bounded whatever the store's size.
        """
        self.vectorizer_ = _OpenTfidf().fit(
            self._text(it) for it in itertools.islice(items, max_items)
        )
        self.fitted_on_ = self.vectorizer_.n_docs_
        self._vectors: dict[GroupingItem, sparse.csr_matrix] = {}
        self._stacked: tuple[tuple[GroupingItem, ...], sparse.csr_matrix] | None = None
        self._dense = np.zeros(self.vectorizer_.n_features)
        return self

    def fit_if_grown(self, candidates: Sequence[GroupingItem], *, max_items: int = 20_000) -> bool:
        """Fit on ``candidates`` unless fitted already on at least half as many; True if it did.

        What a long ingest calls before deciding: the first call fits on the store's candidates,
        and a later one fits again only when the candidates have doubled (a store that started
        empty), so an ingest of N reports fits about log2(N) times and vectorises each
        candidate about once per fit, instead of every candidate for every report.
        """
        fitted_on = getattr(self, "fitted_on_", 0)
        wanted = min(len(candidates), max_items)
        if wanted == 0 or (fitted_on and (wanted < 2 * fitted_on or fitted_on >= max_items)):
            return False
        step = len(candidates) / wanted  # an even sample of a large store, not its oldest part
        self.fit((candidates[int(i * step)] for i in range(wanted)), max_items=max_items)
        return True

    def _text(self, item: GroupingItem) -> str:
        # The title twice: it names the event in few words.
        return f"{item.title}\n{item.title}\n{(item.text or '')[: self.max_chars]}"

    def _vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(
            stop_words="english", ngram_range=(1, 1), sublinear_tf=True, min_df=1
        )

    def _similarity(self, items: Sequence[GroupingItem]) -> np.ndarray:
        try:
            matrix = self._vectorizer().fit_transform([self._text(it) for it in items])
        except ValueError:  # every text empty or only stop words
            return np.zeros((len(items), len(items)))
        return np.asarray((matrix @ matrix.T).toarray())

    def _similarity_to(self, item: GroupingItem, candidates: Sequence[GroupingItem]) -> np.ndarray:
        # A run decides entry after entry against mostly the same candidates: keep their matrix.
        key = tuple(candidates)
        if self._stacked is None or self._stacked[0] != key:
            rows = [self._vector(c) for c in candidates]
            self._stacked = (key, _stack(rows, self.vectorizer_.n_features))
        vector = self._vector(item)
        # Candidates times the item's vector laid out dense: one pass over the matrix, no
        # transposed copy of it.
        dense = self._dense
        dense[vector.indices] = vector.data
        sims = self._stacked[1] @ dense
        dense[vector.indices] = 0.0
        return np.asarray(sims).ravel()

    def _vector(self, item: GroupingItem) -> sparse.csr_matrix:
        try:
            cached = self._vectors.get(item)
        except TypeError:  # a key that cannot be hashed: vectorise without caching
            return self.vectorizer_.transform([self._text(item)])
        if cached is None:
            if len(self._vectors) >= _MAX_CACHED_VECTORS:
                self._vectors.clear()
            cached = self._vectors[item] = self.vectorizer_.transform([self._text(item)])
        return cached

    def _score(self, a: GroupingItem, b: GroupingItem, text_sim: float) -> float:
        if _canonical(a.urls) & _canonical(b.urls):
            return 1.0
        score = text_sim + self.entity_weight * _jaccard(a.entities, b.entities)
        if a.date and b.date and abs((a.date - b.date).days) > self.window_days:
            score *= 0.5
        # Below 1.0, which only a shared URL scores: a URL match always ranks first.
        return min(score, 0.99)

    def _match(self, item: GroupingItem, cand: GroupingItem, text_sim: float) -> GroupMatch:
        shared_urls = _canonical(item.urls) & _canonical(cand.urls)
        if shared_urls:
            return GroupMatch(cand.key, 1.0, [f"same URL {sorted(shared_urls)[0]}"])
        reasons = [f"text similarity {text_sim:.2f}"]
        shared = _lowered(item.entities) & _lowered(cand.entities)
        if shared:
            reasons.append("shared entities: " + ", ".join(sorted(shared)[:5]))
        if item.date and cand.date:
            days = abs((item.date - cand.date).days)
            inside = "within" if days <= self.window_days else "outside"
            reasons.append(f"{days} days apart ({inside} the {self.window_days}-day window)")
        return GroupMatch(cand.key, round(self._score(item, cand, text_sim), 4), reasons)


# About 3 kB a report (a few hundred words of the first 5,000 characters): some 60 MB at most.
_MAX_CACHED_VECTORS = 20_000


class _OpenTfidf:
    """TF-IDF like the unfitted grouper's (English stop words, sublinear tf, l2), over hashed
    words, so a word the corpus never saw still counts, as the rarest word does.

    A fitted ``TfidfVectorizer`` drops words outside its vocabulary: fitted on last month's
    reports it would not see the name of this week's new chatbot, which is what two reports of
    a new incident share. Hashing into 2**20 columns keeps the vocabulary open at the price of
    rare collisions; the IDF table is one float array of that size (8 MB).
    """

    n_features = 2**20

    def __init__(self) -> None:
        self._hasher = HashingVectorizer(
            stop_words="english", alternate_sign=False, norm=None, n_features=self.n_features
        )

    def fit(self, texts: Iterable[str]) -> Self:
        df = np.zeros(self.n_features, dtype=np.int64)
        n = 0
        iterator = iter(texts)
        while chunk := list(itertools.islice(iterator, 1000)):
            counts = self._hasher.transform(chunk).tocsr()
            df += np.bincount(counts.indices, minlength=self.n_features)
            n += len(chunk)
        # sklearn's smoothed IDF; a word in no document gets ln(n + 1) + 1, the highest.
        self.idf_ = np.log((n + 1) / (df + 1)) + 1.0
        self.n_docs_ = n
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        matrix = self._hasher.transform(texts).tocsr()
        matrix.data = (np.log(matrix.data) + 1.0) * self.idf_[matrix.indices]
        return normalize(matrix, copy=False)


def _stack(rows: Sequence[sparse.csr_matrix], width: int) -> sparse.csr_matrix:
    """One-row CSR matrices as one matrix: ``sparse.vstack`` costs far more for many rows."""
    if not rows:
        return sparse.csr_matrix((0, width))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([r.indptr[1] for r in rows], out=indptr[1:])
    data = np.concatenate([r.data for r in rows])
    indices = np.concatenate([r.indices for r in rows])
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), width))


# A candidate is compared with every new report of a run: its URLs and names are worked out
# once (frozensets cache their hash, so a lookup costs little).
@lru_cache(maxsize=_MAX_CACHED_VECTORS)
def _canonical(urls: frozenset[str]) -> frozenset[str]:
    return frozenset(c for c in (canonical_url(u) for u in urls) if c)


@lru_cache(maxsize=_MAX_CACHED_VECTORS)
def _lowered(names: frozenset[str]) -> frozenset[str]:
    return frozenset(x.lower() for x in names)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    la, lb = _lowered(a), _lowered(b)
    return len(la & lb) / len(la | lb)
