"""The failure-mode classifier: spaCy rule evidence combined with a calibrated linear model.

:class:`FailureModeClassifier` follows scikit-learn's conventions: nothing happens in
``__init__``, :meth:`~FailureModeClassifier.fit` returns ``self``, learned state ends in ``_``.
Features are TF-IDF word n-grams, TF-IDF character n-grams and the rule hits of
:class:`~taxonomy._rules.RuleMatcher` (asserted hits per mode and per technique, and negated or
hedged hits per mode as separate features, so "not hacked" counts against ``adversarial``
rather than for it). One logistic regression per label, calibrated with Platt scaling on
internal folds, gives a probability; a per-label threshold chosen on out-of-fold predictions
turns it into a tag.

Techniques are tagged from rule evidence only: an asserted technique rule hit becomes a
technique tag when its failure mode is tagged.

Persisted models carry a format stamp and the scikit-learn version that trained them;
:func:`load_classifier` refuses one trained by an incompatible version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from incidentdb._errors import ClassifierError
from taxonomy._embedding import CooccurrenceEmbedding
from taxonomy._rules import MODES, RULES, RULES_VERSION, RuleHit, RuleMatcher

__all__ = [
    "FORMAT_VERSION",
    "FailureModeClassifier",
    "Tag",
    "Tagging",
    "load_classifier",
]

FORMAT_VERSION = 1
"""Version of the saved-model format; a saved model of another format is refused."""
_FORMAT_NAME = "incidentdb.failure_modes"

_RULE_KEYS: tuple[str, ...] = tuple(
    technique or mode for mode, by in RULES.items() for technique in by
)


@dataclass(frozen=True)
class Tag:
    """One predicted label of one text.

    Attributes:
        attribute: ``mode`` or ``technique``.
        value: the taxonomy node id.
        confidence: calibrated probability (for a technique, its mode's).
        evidence: ``{"rules": [...matched spans...], "features": [...top features...]}``.
    """

    attribute: str
    value: str
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Tagging:
    """What the classifier says about one text: tags, and every mode's probability."""

    tags: tuple[Tag, ...]
    probabilities: dict[str, float]

    @property
    def modes(self) -> list[str]:
        return [t.value for t in self.tags if t.attribute == "mode"]


class FailureModeClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label failure-mode classifier over incident texts.

    Args:
        name: classifier name recorded as provenance with every tag.
        labels: the labels to learn, in output order.
        C: inverse regularisation strength of each logistic regression.
        word_ngrams: n-gram range of the word TF-IDF.
        char_ngrams: n-gram range of the character TF-IDF (within word boundaries); None
            leaves character n-grams out.
        max_char_features: cap on character n-gram vocabulary (memory and speed).
        rule_weight: scale of the rule features against the TF-IDF ones.
        calibration_folds: folds for Platt calibration and for choosing thresholds.
        threshold_range: thresholds are chosen within this range (guards against extremes
            on tiny label counts).
        random_state: seed for the threshold folds.
        prior: a fitted classifier whose per-label log-odds become features (stacking);
            it must never have seen the texts this one learns from, e.g. the shipped
            default when learning from a user's labels.
        prior_weight: scale of the prior's features against the TF-IDF ones.
        embedding: fitted word vectors (learnt without labels, e.g. from every incident of
            a store) whose document vectors become dense features.
        embedding_weight: scale of the embedding's features against the TF-IDF ones.
    """

    def __init__(
        self,
        name: str = "incidentdb.trained",
        labels: Sequence[str] = MODES,
        C: float = 16.0,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] | None = (4, 4),
        max_char_features: int = 60000,
        rule_weight: float = 1.0,
        calibration_folds: int = 3,
        threshold_range: tuple[float, float] = (0.2, 0.7),
        random_state: int = 0,
        prior: FailureModeClassifier | None = None,
        prior_weight: float = 1.0,
        embedding: CooccurrenceEmbedding | None = None,
        embedding_weight: float = 1.0,
    ) -> None:
        self.name = name
        self.labels = labels
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.max_char_features = max_char_features
        self.rule_weight = rule_weight
        self.calibration_folds = calibration_folds
        self.threshold_range = threshold_range
        self.random_state = random_state
        self.prior = prior
        self.prior_weight = prior_weight
        self.embedding = embedding
        self.embedding_weight = embedding_weight

    # -- fitting --------------------------------------------------------------------------

    def fit(
        self,
        X: Sequence[str],
        y: Any,
        sample_weight: Sequence[float] | None = None,
        threshold_weight: Sequence[float] | None = None,
    ) -> FailureModeClassifier:
        """Learn from texts `X` and labels `y` (an indicator matrix, or label lists).

        Args:
            X: the texts.
            y: their labels.
            sample_weight: weighs examples (e.g. a user's labelled incidents over the
                shipped examples).
            threshold_weight: weighs the out-of-fold predictions that set each label's
                threshold (default: `sample_weight`). Zero for the shipped examples sets the
                thresholds on a user's incidents alone: the written examples are easier than
                real incidents, and thresholds fitted to them are too confident.

        Returns:
            self.
        """
        texts = list(X)
        Y = self._indicator(y, len(texts))
        weights = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, float)
        chooser = weights if threshold_weight is None else np.asarray(threshold_weight, float)
        if chooser.shape != weights.shape:
            raise ValueError(
                f"threshold_weight has shape {chooser.shape}, expected {weights.shape}"
            )
        self.labels_ = tuple(self.labels)
        self.rules_version_ = RULES_VERSION
        self.sklearn_version_ = sklearn.__version__
        self.word_vectorizer_ = TfidfVectorizer(
            ngram_range=self.word_ngrams, sublinear_tf=True, min_df=1, lowercase=True
        )
        self.char_vectorizer_ = (
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=self.char_ngrams,
                sublinear_tf=True,
                min_df=2,
                max_features=self.max_char_features,
                lowercase=True,
            )
            if self.char_ngrams is not None
            else None
        )
        hits = list(_matcher().find_many(texts))
        rule_rows = [_rule_vector(h) for h in hits]
        blocks = [self.word_vectorizer_.fit_transform(texts)]
        names = [self.word_vectorizer_.get_feature_names_out()]
        if self.char_vectorizer_ is not None:
            blocks.append(self.char_vectorizer_.fit_transform(texts))
            names.append(np.array(["~" + n for n in self.char_vectorizer_.get_feature_names_out()]))
        blocks.append(sp.csr_matrix(np.array(rule_rows) * self.rule_weight))
        names.append(np.array(_RULE_FEATURE_NAMES))
        if self.prior is not None:
            blocks.append(self._prior_block(texts, hits, training=True))
            names.append(np.array([f"prior:{m}" for m in self.prior.labels_]))
        if self.embedding is not None:
            blocks.append(self._embedding_block(texts))
            names.append(np.array(self.embedding.feature_names))
        features = sp.hstack(blocks, format="csr")
        self.feature_names_ = np.concatenate(names)
        self.estimators_: list[Any] = []
        self.coef_ = np.zeros((len(self.labels_), features.shape[1]))
        self.thresholds_ = np.full(len(self.labels_), 0.5)
        oof = np.zeros((len(texts), len(self.labels_)))
        for j in range(len(self.labels_)):
            target = Y[:, j]
            estimator, coef, threshold, oof[:, j] = self._fit_one(
                features, target, weights, chooser
            )
            self.estimators_.append(estimator)
            self.coef_[j] = coef
            self.thresholds_[j] = threshold
        # Out-of-fold probabilities of the training texts: a model stacking this one as its
        # prior gets these for them rather than the in-sample (over-confident) ones.
        self.oof_proba_ = {_text_key(t): oof[i] for i, t in enumerate(texts)}
        self.n_features_in_ = 1
        params = self.get_params(deep=False)
        if self.prior is None:
            # Without a prior, the version a model had before priors existed: the shipped
            # default keeps its version, so re-classifying adds no duplicate tags.
            del params["prior"], params["prior_weight"]
        else:
            # The prior's own identity, not its repr (which omits what it learnt).
            params["prior"] = self.prior.version_
        if self.embedding is None:
            # Models without an embedding keep the version they had before embeddings existed.
            del params["embedding"], params["embedding_weight"]
        else:
            params["embedding"] = (
                f"{self.embedding.dimensions}/{self.embedding.window}/"
                f"{self.embedding.min_df}/{self.embedding.fingerprint_}"
            )
        if threshold_weight is not None:
            params["threshold_weight"] = hashlib.sha256(chooser.tobytes()).hexdigest()
        self.fingerprint_ = _fingerprint(texts, Y, params)
        self.trained_at_ = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        return self

    def _indicator(self, y: Any, n: int) -> np.ndarray:
        if isinstance(y, np.ndarray) and y.ndim == 2:
            Y = y.astype(int)
        else:
            Y = np.array([[int(label in set(row)) for label in self.labels] for row in y])
        if Y.shape != (n, len(self.labels)):
            raise ValueError(f"labels have shape {Y.shape}, expected {(n, len(self.labels))}")
        return Y

    def _base(self) -> LogisticRegression:
        # Far more features than examples: liblinear's dual solver is 4-10x faster here.
        return LogisticRegression(
            C=self.C, class_weight="balanced", solver="liblinear", dual=True, max_iter=2000
        )

    def _fit_one(
        self,
        features: sp.csr_matrix,
        target: np.ndarray,
        weights: np.ndarray,
        chooser: np.ndarray,
    ) -> tuple[Any, np.ndarray, float, np.ndarray]:
        """A calibrated model of one label, its coefficients, its threshold and the
        out-of-fold probabilities of the training texts.

        Platt scaling is fitted on out-of-fold decision values (as scikit-learn's
        ``CalibratedClassifierCV(ensemble=False)`` does), and the same out-of-fold
        probabilities choose the threshold: k + 1 fits per label in all.
        """
        positives = int(target.sum())
        negatives = len(target) - positives
        if positives == 0 or negatives == 0:
            constant = _Constant(float(positives > 0))
            return constant, np.zeros(features.shape[1]), 0.5, np.full(len(target), constant.p)
        folds = min(self.calibration_folds, positives, negatives)
        model = self._base().fit(features, target, sample_weight=weights)
        if folds < 2:
            calibrated = _Calibrated(model, None)
            return calibrated, model.coef_[0], 0.5, calibrated.predict_proba(features)[:, 1]
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        decision = cross_val_predict(
            self._base(),
            features,
            target,
            cv=splitter,
            method="decision_function",
            params={"sample_weight": weights},
        )
        platt = LogisticRegression(C=1.0).fit(
            decision.reshape(-1, 1), target, sample_weight=weights
        )
        oof = platt.predict_proba(decision.reshape(-1, 1))[:, 1]
        if not chooser[target == 1].any():
            # No positive the thresholds may learn from: fall back on every example.
            chooser = weights
        threshold = self._choose_threshold(oof, target, chooser)
        return _Calibrated(model, platt), model.coef_[0], threshold, oof

    def _choose_threshold(self, oof: np.ndarray, target: np.ndarray, weights: np.ndarray) -> float:
        """The threshold maximising (weighted) F1 on out-of-fold probabilities, within
        threshold_range."""
        low, high = self.threshold_range
        best, best_f1 = 0.5, -1.0
        positive = target == 1
        for threshold in np.arange(low, high + 1e-9, 0.025):
            predicted = oof >= threshold
            tp = float(weights[predicted & positive].sum())
            f1 = 2 * tp / (weights[predicted].sum() + weights[positive].sum()) if tp else 0.0
            if f1 > best_f1 + 1e-9:
                best, best_f1 = float(threshold), f1
        return round(best, 3)

    # -- prediction -----------------------------------------------------------------------

    def _features(self, texts: list[str], hits: list[list[RuleHit]]) -> sp.csr_matrix:
        blocks = [self.word_vectorizer_.transform(texts)]
        if self.char_vectorizer_ is not None:
            blocks.append(self.char_vectorizer_.transform(texts))
        rules = np.array([_rule_vector(h) for h in hits]).reshape(len(texts), -1)
        blocks.append(sp.csr_matrix(rules * self.rule_weight))
        if self.prior is not None:
            blocks.append(self._prior_block(texts, hits))
        if self.embedding is not None:
            blocks.append(self._embedding_block(texts))
        return sp.hstack(blocks, format="csr")

    def _embedding_block(self, texts: list[str]) -> sp.csr_matrix:
        assert self.embedding is not None
        return sp.csr_matrix(self.embedding.transform(texts) * self.embedding_weight)

    def _prior_block(
        self, texts: list[str], hits: Sequence[list[RuleHit]], *, training: bool = False
    ) -> sp.csr_matrix:
        """The prior classifier's log-odds of each of its labels, as features.

        The prior must never have seen the texts this model learns from (the shipped
        default never sees a user's labels), or its confident answers on them would teach
        this model to trust it more than it deserves on new text.
        """
        assert self.prior is not None
        proba = self.prior._proba(self.prior._features(texts, list(hits)))
        if training:
            # Texts the prior learnt from (the shipped examples): its out-of-fold answers.
            seen = getattr(self.prior, "oof_proba_", {})
            for i, text in enumerate(texts):
                if (row := seen.get(_text_key(text))) is not None:
                    proba[i] = row
        clipped = np.clip(proba, 0.01, 0.99)
        return sp.csr_matrix(np.log(clipped / (1 - clipped)) * self.prior_weight)

    def _proba(self, features: sp.csr_matrix) -> np.ndarray:
        return np.column_stack([e.predict_proba(features)[:, 1] for e in self.estimators_])

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Probability of each label (columns in :attr:`labels_` order)."""
        texts = list(X)
        hits = list(_matcher().find_many(texts))
        return self._proba(self._features(texts, hits))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """0/1 indicator matrix of the labels, by the per-label thresholds."""
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def tag(self, X: Sequence[str], *, top_features: int = 5) -> list[Tagging]:
        """Tags with confidence and evidence for each text (modes, then techniques)."""
        texts = list(X)
        hits = list(_matcher().find_many(texts))
        features = self._features(texts, hits)
        proba = self._proba(features)
        out = []
        for i, text_hits in enumerate(hits):
            # The row's non-zeros straight from the CSR arrays: getrow() per text cost more
            # than the linear models themselves.
            lo, hi = features.indptr[i], features.indptr[i + 1]
            row = (features.data[lo:hi], features.indices[lo:hi])
            tags: list[Tag] = []
            for j, label in enumerate(self.labels_):
                if proba[i, j] < self.thresholds_[j]:
                    continue
                mode_hits = [h for h in text_hits if h.mode == label and h.asserted]
                tags.append(
                    Tag(
                        "mode",
                        label,
                        round(float(proba[i, j]), 4),
                        {
                            "rules": [h.as_evidence() for h in mode_hits],
                            "features": self._top_features(row, j, top_features),
                        },
                    )
                )
            modes = {t.value: t for t in tags}
            techniques: dict[str, list[RuleHit]] = {}
            for h in text_hits:
                if h.asserted and h.technique and h.mode in modes:
                    techniques.setdefault(h.technique, []).append(h)
            for technique in sorted(techniques):
                mode = modes[technique.split(".")[0]]
                tags.append(
                    Tag(
                        "technique",
                        technique,
                        mode.confidence,
                        {"rules": [h.as_evidence() for h in techniques[technique]]},
                    )
                )
            probabilities = {
                label: round(float(proba[i, j]), 4) for j, label in enumerate(self.labels_)
            }
            out.append(Tagging(tuple(tags), probabilities))
        return out

    def _top_features(
        self, row: tuple[np.ndarray, np.ndarray], j: int, k: int
    ) -> list[dict[str, Any]]:
        values, indices = row
        contributions = values * self.coef_[j, indices]
        order = np.argsort(-contributions)[:k]
        return [
            {"feature": str(self.feature_names_[indices[o]]), "weight": round(float(c), 4)}
            for o in order
            if (c := contributions[o]) > 0
        ]

    # -- identity and persistence ---------------------------------------------------------

    @property
    def version_(self) -> str:
        """Provenance version: format, rules and a fingerprint of the training data and
        parameters. The same data and parameters give the same version."""
        return f"{FORMAT_VERSION}.{self.rules_version_}+{self.fingerprint_[:10]}"

    def save(self, path: str | Path) -> Path:
        """Write the fitted classifier with its version stamp to `path`."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": _FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "sklearn_version": sklearn.__version__,
            "rules_version": self.rules_version_,
            "name": self.name,
            "version": self.version_,
            "classifier": self,
        }
        tmp = target.with_suffix(target.suffix + ".tmp")
        with tmp.open("wb") as f:
            pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(target)
        return target


def load_classifier(path: str | Path) -> FailureModeClassifier:
    """A classifier saved by :meth:`FailureModeClassifier.save`.

    Only load files you trust: the format is a pickle.

    Raises:
        ClassifierError: not a saved classifier, or saved by an incompatible format,
            scikit-learn or rules version.
    """
    source = Path(path)
    try:
        with source.open("rb") as f:
            payload = pickle.load(f)
    except FileNotFoundError:
        raise ClassifierError(
            f"no model file at {source}", hint="Check the path given to --model."
        ) from None
    except Exception as exc:
        raise ClassifierError(f"{source} is not a saved classifier ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT_NAME:
        raise ClassifierError(f"{source} is not a saved failure-mode classifier")
    problems = []
    if payload.get("format_version") != FORMAT_VERSION:
        problems.append(
            f"format {payload.get('format_version')} (this version reads {FORMAT_VERSION})"
        )
    if _minor(str(payload.get("sklearn_version"))) != _minor(sklearn.__version__):
        problems.append(
            f"scikit-learn {payload.get('sklearn_version')} (installed: {sklearn.__version__})"
        )
    if payload.get("rules_version") != RULES_VERSION:
        problems.append(f"rules {payload.get('rules_version')} (installed: {RULES_VERSION})")
    if problems:
        raise ClassifierError(
            f"{source} was trained by an incompatible version: " + "; ".join(problems)
        )
    classifier = payload["classifier"]
    if not isinstance(classifier, FailureModeClassifier):
        raise ClassifierError(f"{source} does not hold a FailureModeClassifier")
    return classifier


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


class _Calibrated:
    """A linear model and the Platt sigmoid over its decision values."""

    def __init__(self, model: LogisticRegression, platt: LogisticRegression | None) -> None:
        self.model = model
        self.platt = platt

    def predict_proba(self, features: Any) -> np.ndarray:
        if self.platt is None:
            return self.model.predict_proba(features)
        decision = self.model.decision_function(features).reshape(-1, 1)
        return self.platt.predict_proba(decision)


class _Constant:
    """Stands in for a model when a label has only one class in the training data."""

    def __init__(self, p: float) -> None:
        self.p = p

    def predict_proba(self, features: Any) -> np.ndarray:
        n = features.shape[0]
        return np.column_stack([np.full(n, 1 - self.p), np.full(n, self.p)])


_RULE_FEATURE_NAMES: list[str] = (
    [f"rule:{m}" for m in MODES]
    + [f"rule-negated:{m}" for m in MODES]
    + [f"rule-hedged:{m}" for m in MODES]
    + [f"rule:{k}" for k in _RULE_KEYS if k not in MODES]
)
_MODE_INDEX = {m: i for i, m in enumerate(MODES)}
_KEY_INDEX = {k: 3 * len(MODES) + i for i, k in enumerate(k for k in _RULE_KEYS if k not in MODES)}


def _rule_vector(hits: list[RuleHit]) -> list[float]:
    counts = [0.0] * len(_RULE_FEATURE_NAMES)
    for h in hits:
        m = _MODE_INDEX[h.mode]
        if h.negated:
            counts[len(MODES) + m] += 1
        elif h.hedged:
            counts[2 * len(MODES) + m] += 1
        else:
            counts[m] += 1
            if h.technique:
                counts[_KEY_INDEX[h.technique]] = 1.0
    # log scale: the third "scam" in a text says less than the first.
    return [float(np.log1p(c)) for c in counts]


_MATCHER: RuleMatcher | None = None


def _matcher() -> RuleMatcher:
    global _MATCHER
    if _MATCHER is None:
        _MATCHER = RuleMatcher()
    return _MATCHER


def _text_key(text: str) -> str:
    # A stable digest: Python's str hash changes from one process to the next.
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _fingerprint(texts: list[str], Y: np.ndarray, params: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(repr(sorted((k, repr(v)) for k, v in params.items())).encode())
    digest.update(RULES_VERSION.encode())
    digest.update(repr(RULES).encode())
    for text, row in zip(texts, Y.tolist(), strict=True):
        digest.update(text.encode())
        digest.update(bytes(row))
    return digest.hexdigest()
