"""Word vectors fitted without labels, and a classifier that uses them as features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from incidentdb import Store
from taxonomy import FailureModeClassifier, load_classifier, load_examples
from taxonomy._embedding import CooccurrenceEmbedding
from taxonomy._evaluate import CALIBRATION_FOLDS, _fit, store_embedding
from taxonomy._rules import MODES

CORPUS = [
    "The coding agent deleted the production database.",
    "An autonomous agent deleted files and the database.",
    "The agent executed commands on the production server.",
    "A deepfake voice clone was used in a fraud.",
    "Scammers used a deepfake video in a fraud scheme.",
    "A voice clone of the CEO enabled the fraud.",
]


def test_words_that_share_contexts_get_close_vectors() -> None:
    embedding = CooccurrenceEmbedding(dimensions=4, window=3, min_df=1).fit(CORPUS)
    vocabulary = embedding.vectorizer_.vocabulary_
    vectors = embedding.vectors_
    assert vectors.shape == (len(vocabulary), 4)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    def cosine(a: str, b: str) -> float:
        return float(vectors[vocabulary[a]] @ vectors[vocabulary[b]])

    # "agent" and "database" co-occur; "agent" and "deepfake" never do.
    assert cosine("agent", "database") > cosine("agent", "deepfake")
    docs = embedding.transform(["An agent deleted a database.", "Nothing known here."])
    assert docs.shape == (2, 4)
    assert np.linalg.norm(docs[0]) == pytest.approx(1.0, abs=1e-5)
    assert not docs[1].any()  # no known word: a zero row, not NaN


def test_the_same_corpus_gives_the_same_vectors() -> None:
    one = CooccurrenceEmbedding(dimensions=4, min_df=1).fit(CORPUS)
    two = CooccurrenceEmbedding(dimensions=4, min_df=1).fit(list(CORPUS))
    np.testing.assert_array_equal(one.vectors_, two.vectors_)
    assert one.fingerprint_ == two.fingerprint_
    assert CooccurrenceEmbedding(min_df=1).fit(CORPUS[:-1]).fingerprint_ != one.fingerprint_


def test_a_classifier_with_an_embedding_saves_and_loads(
    texts_and_labels: tuple[list, list], tmp_path: Path
) -> None:
    texts, labels = texts_and_labels
    embedding = CooccurrenceEmbedding(dimensions=8, min_df=1).fit(texts + CORPUS)
    model = FailureModeClassifier(
        name="e", calibration_folds=2, embedding=embedding, embedding_weight=0.5
    ).fit(texts, labels)
    assert list(model.feature_names_[-8:]) == [f"embedding:{i}" for i in range(8)]
    plain = FailureModeClassifier(name="e", calibration_folds=2).fit(texts, labels)
    assert model.version_ != plain.version_  # the embedding is part of the identity
    loaded = load_classifier(model.save(tmp_path / "e.model"))
    assert loaded.version_ == model.version_
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    dense = model._embedding_block(texts[:1]).toarray()[0]
    assert dense == pytest.approx(0.5 * embedding.transform(texts[:1])[0])


def test_a_trained_model_uses_five_inner_folds(texts_and_labels: tuple[list, list]) -> None:
    texts, labels = texts_and_labels
    Y = np.array([[int(m in row) for m in MODES] for row in labels])
    assert CALIBRATION_FOLDS == 5
    assert _fit(texts, Y, with_prior=False).calibration_folds == 5


def test_store_embedding_reads_every_incident_and_the_examples(store: Store) -> None:
    embedding = store_embedding(store)
    assert embedding.n_texts_ == 18 + len(load_examples()[0])
