"""Training on a user's labels and measuring a classifier against them.

:func:`evaluate` gives per-label precision, recall, F1 and support and the macro-F1, each with
a bootstrap 95% interval (incidents resampled with replacement), and a k-fold cross-validated
figure for a classifier trained on the same labels. :func:`evaluate_techniques` measures the
technique tags (rule evidence under a tagged mode) against a file of technique labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from incidentdb import SILENT, Progress, Store
from incidentdb._errors import LabelError
from taxonomy._classify import LabelFileRow, incident_text, read_label_file
from taxonomy._default import default_classifier, load_examples
from taxonomy._embedding import CooccurrenceEmbedding
from taxonomy._model import FailureModeClassifier
from taxonomy._rules import MODES, RULES

__all__ = [
    "TECHNIQUES",
    "evaluate",
    "evaluate_techniques",
    "labelled_texts",
    "scores",
    "store_embedding",
    "train",
]

TECHNIQUES: tuple[str, ...] = tuple(t for by in RULES.values() for t in by if t is not None)
"""The technique ids the tagger can give (those with rules), in the taxonomy's order."""

PRIOR_WEIGHT = 1.0
"""Scale of the shipped default's log-odds as features of a model trained on a user's labels.

Chosen by 5-fold CV on the project's labelled set under several seeds: 1.0 beat 0.3 and 2.0
(a larger weight also makes liblinear converge slowly)."""

CALIBRATION_FOLDS = 5
"""Internal folds of a model trained on a user's labels (Platt scaling and thresholds).

More folds than the default's 3: each inner model then sees 80% rather than 67% of the few
positives of a rare label, so the out-of-fold probabilities that set the threshold are closer
to the final model's. Chosen by 5-fold CV on the project's labelled set, 5 seeds: macro-F1
0.783 (sd 0.003) against 0.776 (sd 0.004) with 3, at 1.5 x the CPU."""


def _fit(
    texts: list[str],
    Y: np.ndarray,
    *,
    name: str = "incidentdb.trained",
    with_prior: bool,
    labelled: int | None = None,
    embedding: CooccurrenceEmbedding | None = None,
    calibration_folds: int = CALIBRATION_FOLDS,
) -> FailureModeClassifier:
    """A classifier of `texts`, of which the first `labelled` (default: all) are the user's
    incidents and the rest shipped examples; the thresholds are set on the user's alone."""
    # The default never sees a user's labels, so its probabilities on them are honest
    # evidence to stack beside the text features.
    prior = default_classifier() if with_prior else None
    n = len(texts) if labelled is None else labelled
    chooser = np.r_[np.ones(n), np.zeros(len(texts) - n)]
    return FailureModeClassifier(
        name=name,
        prior=prior,
        prior_weight=PRIOR_WEIGHT,
        embedding=embedding,
        calibration_folds=calibration_folds,
    ).fit(texts, Y, threshold_weight=chooser if n < len(texts) else None)


def store_embedding(store: Store) -> CooccurrenceEmbedding:
    """Word vectors fitted on the text of every incident in `store` and the shipped examples.

    Unsupervised: no label is read, so a cross-validation may fit it once on the whole store,
    test folds' texts included, as training on a user's labels does at deployment.
    """
    corpus = [incident_text(i) for batch in store.incident_texts() for i in batch]
    return CooccurrenceEmbedding().fit(corpus + load_examples()[0])


def labelled_texts(store: Store, rows: Sequence[LabelFileRow]) -> tuple[list[str], np.ndarray]:
    """The classifier text and the 0/1 label row of every incident in `rows`.

    Raises:
        NotFoundError: an incident of the labels is not in the store.
    """
    out = _texts(store, rows)
    Y = np.array([[int(m in r.labels) for m in MODES] for r in rows], dtype=int).reshape(-1, 5)
    return out, Y


def _texts(store: Store, rows: Sequence[LabelFileRow]) -> list[str]:
    ids = [r.incident_id for r in rows]
    texts: dict[int, str] = {}
    for batch in store.incident_texts(incident_ids=ids):
        for incident in batch:
            if incident.incident_id is not None:
                texts[incident.incident_id] = incident_text(incident)
    out = []
    for r in rows:
        key = r.incident_id if r.incident_id in texts else store.resolve_incident_id(r.incident_id)
        out.append(texts[key])
    return out


def train(
    store: Store,
    labels: str | Path,
    *,
    name: str = "incidentdb.trained",
    with_examples: bool = True,
    with_prior: bool = True,
    with_embedding: bool = False,
    out: str | Path | None = None,
) -> FailureModeClassifier:
    """Train a classifier on a labels file (AIID ids in the store) and save it to `out`.

    Args:
        with_examples: train on the shipped examples as well as the user's labels, so that
            modes with few labelled incidents still have the examples' vocabulary.
        with_prior: stack the shipped default's per-label log-odds beside the text features.
        with_embedding: add word vectors fitted without labels on the store's texts
            (:func:`store_embedding`) as features. Off by default: it did not raise the
            cross-validated macro-F1 on the project's labelled set (BENCHMARKS.md).

    Raises:
        LabelError: the labels file is malformed or empty.
        NotFoundError: an incident of the labels is not in the store.
    """
    rows = _rows(labels)
    texts, Y = labelled_texts(store, rows)
    X, Y = _with_examples(texts, Y, with_examples)
    embedding = store_embedding(store) if with_embedding else None
    classifier = _fit(
        X, Y, name=name, with_prior=with_prior, labelled=len(texts), embedding=embedding
    )
    if out is not None:
        classifier.save(out)
    return classifier


def _rows(labels: str | Path) -> list[LabelFileRow]:
    rows = read_label_file(labels)
    if not rows:
        raise LabelError("no labelled incidents", file=str(labels))
    return rows


def _with_examples(
    texts: list[str], Y: np.ndarray, with_examples: bool
) -> tuple[list[str], np.ndarray]:
    if not with_examples:
        return texts, Y
    example_texts, example_labels = load_examples()
    EY = np.array([[int(m in row) for m in MODES] for row in example_labels], dtype=int)
    return texts + example_texts, np.vstack([Y, EY])


def scores(Y: np.ndarray, P: np.ndarray, names: Sequence[str] = MODES) -> dict[str, Any]:
    """Per-label precision, recall, F1 and support, and the macro-F1 (0 where undefined).

    Columns of `Y` and `P` are `names`, in order.
    """
    tp = (Y & P).sum(axis=0)
    predicted = P.sum(axis=0)
    support = Y.sum(axis=0)
    precision, recall, f1 = _prf(tp, predicted, support)
    labels = {
        m: {
            "precision": round(float(precision[j]), 4),
            "recall": round(float(recall[j]), 4),
            "f1": round(float(f1[j]), 4),
            "support": int(support[j]),
        }
        for j, m in enumerate(names)
    }
    return {"macro_f1": round(float(f1.mean()), 4), "labels": labels}


def _prf(
    tp: np.ndarray, predicted: np.ndarray, support: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
        recall = np.where(support > 0, tp / np.maximum(support, 1), 0.0)
        f1 = np.where(predicted + support > 0, 2 * tp / np.maximum(predicted + support, 1), 0.0)
    return precision, recall, f1


def _bootstrap(
    Y: np.ndarray, P: np.ndarray, rounds: int, seed: int
) -> dict[str, dict[str, list[float]]]:
    """95% percentile intervals of precision, recall, F1 per label and of the macro-F1."""
    rng = np.random.default_rng(seed)
    n = len(Y)
    draws = rng.integers(0, n, size=(rounds, n))
    # How often each incident is drawn in each round: one matrix product per statistic.
    weights = np.zeros((rounds, n))
    np.add.at(weights, (np.repeat(np.arange(rounds), n), draws.ravel()), 1)
    tp = weights @ (Y & P)
    predicted = weights @ P
    support = weights @ Y
    precision, recall, f1 = _prf(tp, predicted, support)

    def interval(values: np.ndarray) -> list[float]:
        low, high = np.percentile(values, [2.5, 97.5])
        return [round(float(low), 4), round(float(high), 4)]

    out: dict[str, dict[str, list[float]]] = {
        m: {
            "precision": interval(precision[:, j]),
            "recall": interval(recall[:, j]),
            "f1": interval(f1[:, j]),
        }
        for j, m in enumerate(MODES)
    }
    out["macro_f1"] = {"f1": interval(f1.mean(axis=1))}
    return out


def _cross_validated(
    texts: list[str],
    Y: np.ndarray,
    folds: int,
    seed: int,
    with_examples: bool,
    progress: Progress,
    with_prior: bool = True,
    *,
    embedding: CooccurrenceEmbedding | None = None,
    calibration_folds: int = CALIBRATION_FOLDS,
) -> np.ndarray:
    """Out-of-fold predictions of classifiers trained on the other folds' labels."""
    # Stratify on each incident's rarest label, so every fold gets some of each.
    rarest_first = np.argsort(Y.sum(axis=0), kind="stable")
    strata = [next((int(j) for j in rarest_first if row[j]), -1) for row in Y]
    counts = np.bincount(np.array(strata) + 1)
    usable = min(folds, int(counts[counts > 0].min())) if len(counts) else 0
    splitter = StratifiedKFold(n_splits=max(usable, 2), shuffle=True, random_state=seed)
    if usable < folds:
        # A label with fewer incidents than folds: stratify on "any label" instead.
        strata = [int(row.any()) for row in Y]
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    P = np.zeros_like(Y)
    progress.stage("cross-validating", total=folds)
    for train_idx, test_idx in splitter.split(np.zeros(len(Y)), strata):
        X, YY = _with_examples([texts[i] for i in train_idx], Y[train_idx], with_examples)
        model = _fit(
            X,
            YY,
            with_prior=with_prior,
            labelled=len(train_idx),
            embedding=embedding,
            calibration_folds=calibration_folds,
        )
        P[test_idx] = model.predict([texts[i] for i in test_idx])
        progress.advance()
    return P


def evaluate(
    store: Store,
    labels: str | Path,
    classifier: FailureModeClassifier | None = None,
    *,
    folds: int = 5,
    bootstrap: int = 1000,
    seed: int = 0,
    with_examples: bool = True,
    with_prior: bool = True,
    with_embedding: bool = False,
    progress: Progress = SILENT,
) -> dict[str, Any]:
    """Measure `classifier` (default: the shipped one) against a labels file.

    Returns:
        ``{"macro_f1", "labels": {mode: {precision, recall, f1, support}}, "intervals",
        "model", "incidents", "cv"}``; ``cv`` (None when `folds` < 2) holds the same scores
        for out-of-fold predictions of classifiers trained on the labels.

    Raises:
        LabelError: the labels file is malformed or empty.
        NotFoundError: an incident of the labels is not in the store.
    """
    rows = _rows(labels)
    texts, Y = labelled_texts(store, rows)
    model = classifier if classifier is not None else default_classifier()
    try:
        progress.stage("evaluating", total=len(texts))
        P = model.predict(texts)
        progress.advance(len(texts))
        result = scores(Y, P)
        result["intervals"] = _bootstrap(Y, P, bootstrap, seed) if bootstrap > 0 else None
        result["model"] = {"name": model.name, "version": model.version_}
        result["incidents"] = len(rows)
        result["cv"] = None
        if folds >= 2:
            cv_predictions = _cross_validated(
                texts,
                Y,
                folds,
                seed,
                with_examples,
                progress,
                with_prior,
                embedding=store_embedding(store) if with_embedding else None,
            )
            result["cv"] = {
                "folds": folds,
                "with_examples": with_examples,
                **scores(Y, cv_predictions),
            }
    finally:
        progress.done()
    return result


def _with_ancestors(techniques: Sequence[str]) -> set[str]:
    # "adversarial.prompt_injection.direct" is also "adversarial.prompt_injection".
    out: set[str] = set()
    for t in techniques:
        parts = t.split(".")
        out.update(".".join(parts[:k]) for k in range(2, len(parts) + 1))
    return out


def evaluate_techniques(
    store: Store,
    labels: str | Path,
    classifier: FailureModeClassifier | None = None,
    *,
    progress: Progress = SILENT,
) -> dict[str, Any]:
    """Measure the technique tags of `classifier` (default: the shipped one) against a file of
    technique labels: ``{"incident_id": N, "labels": ["adversarial.jailbreak", ...]}``.

    A technique implies its parent technique, in the labels and in the tags alike (an incident
    labelled ``adversarial.prompt_injection.direct`` counts for ``adversarial.prompt_injection``
    too). Scores cover every technique that is labelled or tagged at least once; the macro-F1
    averages those with labelled incidents.

    Returns:
        ``{"level": "technique", "macro_f1", "labels": {technique: {precision, recall, f1,
        support}}, "model", "incidents"}``.

    Raises:
        LabelError: the labels file is malformed, empty or names an unknown technique.
        NotFoundError: an incident of the labels is not in the store.
    """
    rows = read_label_file(labels, TECHNIQUES, kind="techniques")
    if not rows:
        raise LabelError("no labelled incidents", file=str(labels))
    texts = _texts(store, rows)
    model = classifier if classifier is not None else default_classifier()
    try:
        progress.stage("evaluating", total=len(texts))
        taggings = model.tag(texts, top_features=0)
        progress.advance(len(texts))
    finally:
        progress.done()
    gold = [_with_ancestors(r.labels) for r in rows]
    predicted = [
        _with_ancestors([t.value for t in tagging.tags if t.attribute == "technique"])
        for tagging in taggings
    ]
    either = set().union(*gold, *predicted)
    names = [t for t in TECHNIQUES if t in either]
    Y = np.array([[int(t in g) for t in names] for g in gold], dtype=int).reshape(len(rows), -1)
    P = np.array([[int(t in p) for t in names] for p in predicted], dtype=int).reshape(Y.shape)
    result = scores(Y, P, names)
    supported = [s["f1"] for s in result["labels"].values() if s["support"] > 0]
    result["macro_f1"] = round(float(np.mean(supported)), 4) if supported else 0.0
    return {
        "level": "technique",
        **result,
        "model": {"name": model.name, "version": model.version_},
        "incidents": len(rows),
    }
