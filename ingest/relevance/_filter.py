"""The relevance filter: does this article report an AI incident or hazard?

Two parts, one score. A spaCy pipeline (:mod:`ingest.relevance._nlp`) lemmatises the text and
three ``PhraseMatcher``\\ s find AI terms, harm terms and known entity names; those matches are the
human-readable evidence and also four numeric features. A scikit-learn logistic regression over
TF-IDF of lemma uni- and bigrams plus those rule features, calibrated (sigmoid, 5-fold), gives
the probability that the article reports an incident or hazard. The rule features let the model
learn what a keyword list alone cannot: "crash" in an article about a robotaxi is evidence, "crash"
without any AI term is not.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice, pairwise
from pathlib import Path
from typing import Self

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from spacy.attrs import IDX
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from ingest.relevance._nlp import NUMBER_NORM, make_nlp, norms

__all__ = [
    "FILTER_NAME",
    "FILTER_VERSION",
    "Example",
    "Relevance",
    "RelevanceFilter",
    "read_examples",
    "read_terms",
]

FILTER_NAME = "relevance"
# Bump when the shipped examples, term lists or features change: scores carry it as provenance.
FILTER_VERSION = "1.1.0"

_STOP = frozenset(ENGLISH_STOP_WORDS) | {NUMBER_NORM, "'s", "’s", "say", "said"}
_LABELS = ("ai", "system", "harm", "entity")
_MAX_EVIDENCE_SPANS = 8
_MAX_EVIDENCE_FEATURES = 3
# Articles scored together: large enough for nlp.pipe and one sparse product to pay off.
_CHUNK = 1024


@dataclass(frozen=True)
class Relevance:
    """The verdict on one article.

    Attributes:
        score: calibrated probability (0–1) that the article reports an AI incident or hazard.
        relevant: ``score >= threshold`` of the filter that scored it.
        evidence: what the score rests on, human-readable: matched spans (``ai: facial
            recognition``, ``harm: arrested``, ``entity: Tesla``) and the model's strongest
            features (``model: wrongful arrest +0.84``).
    """

    score: float
    relevant: bool
    evidence: list[str]


@dataclass(frozen=True)
class Example:
    """One labelled article for training or evaluation."""

    title: str
    text: str
    relevant: bool
    id: str = ""
    kind: str = ""


def read_terms(path: Path) -> list[str]:
    """Phrases of a term list: one a line, ``#`` starts a comment line, blank lines skipped."""
    terms: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            terms.append(line)
    return terms


def read_examples(path: Path) -> list[Example]:
    """Examples from a JSON-lines file of ``{"title", "text", "relevant", "id"?, "kind"?}``.

    Raises:
        ValueError: a line is not JSON or lacks a field; the message names file and line.
    """
    examples: list[Example] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(
                    Example(
                        title=str(row.get("title") or ""),
                        text=str(row.get("text") or ""),
                        relevant=_as_bool(row["relevant"]),
                        id=str(row.get("id") or f"{path.name}:{number}"),
                        kind=str(row.get("kind") or ""),
                    )
                )
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}, line {number}: {exc!r}") from exc
    return examples


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    raise ValueError(f"'relevant' must be true or false, not {value!r}")


def _is_acronym(term: str) -> bool:
    # "AI", "LLM", "A.I.": matched on the exact spelling, because "ai" and "gpt" in lower case
    # are too often something else (a Portuguese interjection, a name).
    letters = term.replace(".", "").replace("-", "")
    return letters.isalnum() and letters.isupper() and len(letters) <= 5


def _analyzer(tokens: list[str]) -> list[str]:
    kept = [t for t in tokens if t not in _STOP and len(t) > 1]
    return kept + [f"{a} {b}" for a, b in pairwise(kept)]


class RelevanceFilter:
    """Scores articles for "reports an AI incident or hazard" (scikit-learn conventions).

    Construct with the term lists and parameters, then :meth:`fit` on labelled examples; learned
    state ends in ``_``. A fitted filter is not changed by scoring, so one instance can serve
    many callers; :meth:`with_entities` returns a new filter rather than changing this one.

    Args:
        ai_terms: phrases naming AI systems and techniques.
        harm_terms: phrases naming harms and failures.
        system_terms: phrases naming automated systems in general ("software", "risk tool"):
            weaker evidence than AI terms, but many incidents are reported without the word AI.
        entities: names of organisations and products (deployers, developers).
        threshold: scores at or above it are ``relevant``. The default, 0.3, keeps recall
            near 0.9 in 5-fold cross-validation on the shipped examples (0.87, precision 0.78
            on the 466 of version 1.1.0, whose negatives are mostly hard AI news): a missed
            incident is lost to the editors, a false alarm only costs a look in the review
            queue.
        max_chars: only the first ``max_chars`` characters of the text are read: news leads
            with the event, and long articles should not cost more than their first page.
        C: inverse regularisation strength of the logistic regression.
        name, version: provenance stored with each score.
    """

    def __init__(
        self,
        *,
        ai_terms: Sequence[str] = (),
        harm_terms: Sequence[str] = (),
        system_terms: Sequence[str] = (),
        entities: Sequence[str] = (),
        threshold: float = 0.3,
        max_chars: int = 8000,
        C: float = 8.0,
        name: str = FILTER_NAME,
        version: str = FILTER_VERSION,
    ) -> None:
        self.ai_terms = ai_terms
        self.harm_terms = harm_terms
        self.system_terms = system_terms
        self.entities = entities
        self.threshold = threshold
        self.max_chars = max_chars
        self.C = C
        self.name = name
        self.version = version

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, examples: Sequence[Example]) -> Self:
        """Learn the model from labelled examples; returns self."""
        if len({e.relevant for e in examples}) < 2:
            raise ValueError("fit needs relevant and irrelevant examples")
        self.nlp_ = make_nlp()
        self._build_matchers(self.entities)
        docs = list(self._docs((e.title, e.text) for e in examples))
        self.vectorizer_ = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=1)
        text_x = self.vectorizer_.fit_transform([norms(d) for d in docs])
        x = sparse.hstack([text_x, self._rule_features(docs)]).tocsr()
        y = np.array([e.relevant for e in examples], dtype=int)
        base = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000)
        self.model_ = CalibratedClassifierCV(base, method="sigmoid", cv=5, ensemble=False)
        self.model_.fit(x, y)
        # The calibrated wrapper refits one regression on all data: its weights explain scores.
        linear = self.model_.calibrated_classifiers_[0].estimator
        self.coef_ = np.asarray(linear.coef_).ravel()
        self.feature_names_ = [*self.vectorizer_.get_feature_names_out(), *_RULE_FEATURES]
        return self

    def _build_matchers(self, entities: Iterable[str]) -> None:
        nlp = self.nlp_
        self.matcher_ = PhraseMatcher(nlp.vocab, attr="NORM")
        self.exact_matcher_ = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.entity_names_ = tuple(dict.fromkeys(n.strip() for n in entities if n.strip()))
        labelled = (("ai", self.ai_terms), ("system", self.system_terms), ("harm", self.harm_terms))
        for label, terms in labelled:
            exact = [t for t in terms if _is_acronym(t)]
            loose = [t for t in terms if not _is_acronym(t)]
            if exact:
                self.exact_matcher_.add(label, [nlp.make_doc(t) for t in exact])
            if loose:
                self.matcher_.add(label, list(nlp.pipe(loose)))
        if self.entity_names_:
            self.matcher_.add("entity", list(nlp.pipe(self.entity_names_)))

    def with_entities(self, names: Iterable[str]) -> RelevanceFilter:
        """A copy of this fitted filter that also matches ``names`` (e.g. the store's entities).

        The model is shared, not refitted: a match counts in the entity feature it learned from
        the shipped entity list, and shows in the evidence.
        """
        self._check_fitted()
        clone = copy.copy(self)
        clone._build_matchers([*self.entity_names_, *names])
        return clone

    # -- scoring -------------------------------------------------------------------------------

    def score(self, title: str, text: str) -> Relevance:
        """Score one article."""
        return self.score_many([(title, text)])[0]

    def score_many(self, items: Iterable[tuple[str, str]]) -> list[Relevance]:
        """Score many ``(title, text)`` pairs, tokenised in batches with ``nlp.pipe``.

        Items are read lazily, ``_CHUNK`` at a time, so memory stays bounded whatever the input.
        """
        self._check_fitted()
        results: list[Relevance] = []
        iterator = iter(items)
        while chunk := list(islice(iterator, _CHUNK)):
            results.extend(self._score_chunk(chunk))
        return results

    def _score_chunk(self, items: list[tuple[str, str]]) -> list[Relevance]:
        docs = list(self._docs(items))
        spans = [self._matches(d) for d in docs]
        text_x = self.vectorizer_.transform([norms(d) for d in docs])
        x = sparse.hstack([text_x, _features_from(spans)]).tocsr()
        scores = self.model_.predict_proba(x)[:, 1]
        # Every feature's share of each score, in one sparse product for the whole batch.
        contributions = x.multiply(self.coef_).tocsr()
        results = []
        for i, score in enumerate(scores):
            found = spans[i].spans[:_MAX_EVIDENCE_SPANS]
            evidence = [f"{label}: {span}" for label, span in found]
            evidence += self._top_features(contributions, i)
            value = round(float(score), 4)
            results.append(Relevance(value, value >= self.threshold, evidence))
        return results

    def _docs(self, items: Iterable[tuple[str, str]]) -> Iterable[Doc]:
        # The title twice: a headline says in ten words what the article is about, and in a
        # feed entry it is often most of what there is.
        texts = (
            f"{(title or '').strip()}\n{(title or '').strip()}\n\n"
            f"{(text or '')[: self.max_chars].strip()}"
            for title, text in items
        )
        return self.nlp_.pipe(texts, batch_size=256)

    def _matches(self, doc: Doc) -> _Found:
        first: dict[tuple[str, str], int] = {}
        starts: dict[str, list[int]] = {label: [] for label in _LABELS}
        strings = self.nlp_.vocab.strings
        for matcher in (self.exact_matcher_, self.matcher_):
            for match_id, start, end in matcher(doc):
                label = strings[match_id]
                starts[label].append(start)
                first.setdefault((label, doc[start:end].text.lower()), start)
        spans = sorted(first, key=lambda k: (_LABELS.index(k[0]), first[k]))
        return _Found(spans, starts, _title_end(doc))

    def _rule_features(self, docs: Sequence[Doc]) -> sparse.csr_matrix:
        return _features_from([self._matches(d) for d in docs])

    def _top_features(self, contributions: sparse.csr_matrix, row: int) -> list[str]:
        begin, end = contributions.indptr[row], contributions.indptr[row + 1]
        data = contributions.data[begin:end]
        columns = contributions.indices[begin:end]
        out = []
        for k in np.argsort(-data)[:_MAX_EVIDENCE_FEATURES]:
            weight = float(data[k])
            if weight <= 0:
                break
            out.append(f"model: {self.feature_names_[columns[k]]} {weight:+.2f}")
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("this RelevanceFilter is not fitted yet; call fit() first")

    def __repr__(self) -> str:
        state = "fitted" if hasattr(self, "model_") else "not fitted"
        return f"<RelevanceFilter {self.name} {self.version} threshold={self.threshold} {state}>"

    # spaCy pipelines do not copy cheaply; copies of a filter share theirs.
    def __copy__(self) -> RelevanceFilter:
        clone = RelevanceFilter.__new__(RelevanceFilter)
        clone.__dict__.update(self.__dict__)
        return clone


_RULE_FEATURES = (
    "[ai terms]",
    "[harm terms]",
    "[ai and harm]",
    "[harm near ai]",
    "[system terms]",
    "[harm near system]",
    "[ai in title]",
    "[harm in title]",
    "[entities]",
    "[no ai term]",
)
# A harm term this many tokens or fewer from an AI term is "near" it: about one sentence.
_NEAR = 25


@dataclass(frozen=True)
class _Found:
    spans: list[tuple[str, str]]  # (label, matched text) once each, in label then text order
    starts: dict[str, list[int]]  # label -> token offsets of every match
    title_end: int  # tokens before it are the title


def _title_end(doc: Doc) -> int:
    # The doc is "title\n\ntext": the title ends at the first token after the blank line.
    cut = doc.text.find("\n\n")
    if cut < 0:
        return len(doc)
    starts = doc.to_array([IDX]).ravel()
    return int(np.searchsorted(starts, cut))


def _features_from(found: Sequence[_Found]) -> sparse.csr_matrix:
    rows: list[list[float]] = []
    for f in found:
        ai, harm, system = f.starts["ai"], f.starts["harm"], f.starts["system"]
        n_ai = len({span for label, span in f.spans if label == "ai"})
        n_harm = len({span for label, span in f.spans if label == "harm"})
        n_entity = len({span for label, span in f.spans if label == "entity"})
        n_system = len({span for label, span in f.spans if label == "system"})
        near = sum(1 for h in harm if any(abs(h - a) <= _NEAR for a in ai))
        near_system = sum(1 for h in harm if any(abs(h - a) <= _NEAR for a in system))
        rows.append(
            [
                min(n_ai, 4) / 4,
                min(n_harm, 4) / 4,
                float(n_ai > 0 and n_harm > 0),
                min(near, 3) / 3,
                min(n_system, 4) / 4,
                min(near_system, 3) / 3,
                float(any(a < f.title_end for a in ai)),
                float(any(h < f.title_end for h in harm)),
                min(n_entity, 2) / 2,
                float(n_ai == 0),
            ]
        )
    return sparse.csr_matrix(np.array(rows, dtype=float).reshape(len(rows), len(_RULE_FEATURES)))
