"""The failure-mode classifier: fit, predict, tag, persist, refuse incompatible models."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from incidentdb import IncidentDBError
from incidentdb._errors import ClassifierError
from taxonomy import FailureModeClassifier, load_classifier
from taxonomy._model import FORMAT_VERSION, _matcher, _text_key


def test_fit_follows_sklearn_conventions(texts_and_labels: tuple[list, list]) -> None:
    texts, labels = texts_and_labels
    fresh = FailureModeClassifier(name="x", calibration_folds=2)
    assert not hasattr(fresh, "labels_")  # nothing learned in __init__
    assert fresh.fit(texts, labels) is fresh
    assert fresh.labels_ == ("multi_turn", "agentic", "distribution_shift", "adversarial", "misuse")
    assert fresh.get_params()["name"] == "x"
    assert fresh.thresholds_.shape == (5,)
    # The same data and parameters give the same version; other data another.
    again = FailureModeClassifier(name="x", calibration_folds=2).fit(texts, labels)
    assert again.version_ == fresh.version_
    assert again.version_.startswith("1.2+")
    other = FailureModeClassifier(name="x", calibration_folds=2).fit(texts[:-1], labels[:-1])
    assert other.version_ != fresh.version_


def test_predicts_its_training_data(
    small_classifier: FailureModeClassifier, texts_and_labels: tuple[list, list]
) -> None:
    texts, labels = texts_and_labels
    P = small_classifier.predict(texts)
    Y = np.array([[int(m in row) for m in small_classifier.labels_] for row in labels])
    assert P.shape == Y.shape
    # Eighteen incidents are too few to promise every one, but most must come back.
    assert (P == Y).mean() >= 0.85
    proba = small_classifier.predict_proba(["Scammers used a deepfake voice clone."])
    assert proba.shape == (1, 5) and ((proba >= 0) & (proba <= 1)).all()


def test_tags_carry_confidence_evidence_and_techniques(
    small_classifier: FailureModeClassifier,
) -> None:
    [tagging] = small_classifier.tag(
        ["Users jailbroke the chatbot with a role-play prompt and bypassed its safety filters."]
    )
    modes = {t.value: t for t in tagging.tags if t.attribute == "mode"}
    assert "adversarial" in modes
    adversarial = modes["adversarial"]
    assert 0.0 <= adversarial.confidence <= 1.0
    assert adversarial.confidence == tagging.probabilities["adversarial"]
    assert [e["text"] for e in adversarial.evidence["rules"]] == [
        "jailbroke",
        "role-play prompt",
        "bypassed its",
        "safety filters",
    ]
    assert adversarial.evidence["features"]  # top features with positive weight
    assert all(f["weight"] > 0 for f in adversarial.evidence["features"])
    techniques = [t.value for t in tagging.tags if t.attribute == "technique"]
    assert techniques == ["adversarial.jailbreak", "adversarial.jailbreak.role_play"]


def test_a_negated_mention_is_not_evidence(small_classifier: FailureModeClassifier) -> None:
    [tagging] = small_classifier.tag(["There was no evidence of a jailbreak."])
    for tag in tagging.tags:
        assert all(e["text"] != "jailbreak" for e in tag.evidence.get("rules", []))
    assert not [t for t in tagging.tags if t.attribute == "technique"]


def test_save_and_load_round_trip(
    small_classifier: FailureModeClassifier, tmp_path: Path, texts_and_labels: tuple[list, list]
) -> None:
    path = small_classifier.save(tmp_path / "m" / "model.pkl")
    loaded = load_classifier(path)
    texts = texts_and_labels[0]
    assert loaded.version_ == small_classifier.version_
    assert loaded.name == "test.small"
    np.testing.assert_array_equal(
        loaded.predict_proba(texts), small_classifier.predict_proba(texts)
    )


def _rewrite(path: Path, **changes: object) -> None:
    payload = pickle.loads(path.read_bytes())
    payload.update(changes)
    path.write_bytes(pickle.dumps(payload))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format_version": FORMAT_VERSION + 1}, "format 2"),
        ({"sklearn_version": "0.24.2"}, "scikit-learn 0.24.2"),
        ({"rules_version": "0"}, "rules 0"),
    ],
)
def test_refuses_a_model_of_an_incompatible_version(
    small_classifier: FailureModeClassifier, tmp_path: Path, changes: dict, message: str
) -> None:
    path = small_classifier.save(tmp_path / "model.pkl")
    _rewrite(path, **changes)
    with pytest.raises(ClassifierError, match="incompatible version") as info:
        load_classifier(path)
    assert message in str(info.value)
    assert isinstance(info.value, IncidentDBError) and info.value.hint


def test_refuses_files_that_are_not_models(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"not a pickle")
    with pytest.raises(ClassifierError, match="is not a saved classifier"):
        load_classifier(junk)
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"format": "something else"}))
    with pytest.raises(ClassifierError, match="not a saved failure-mode classifier"):
        load_classifier(other)
    with pytest.raises(ClassifierError, match="no model file"):
        load_classifier(tmp_path / "missing.pkl")


def test_a_label_without_positives_is_never_predicted() -> None:
    texts = ["Scammers used a deepfake.", "A robot injured a worker.", "Fraudsters cloned a voice."]
    model = FailureModeClassifier(calibration_folds=2).fit(texts, [["misuse"], [], ["misuse"]])
    assert model.predict(["A chatbot was jailbroken."])[0].tolist()[:4] == [0, 0, 0, 0]


def test_a_prior_stacks_its_log_odds_as_features(
    small_classifier: FailureModeClassifier, texts_and_labels: tuple[list, list]
) -> None:
    texts, labels = texts_and_labels
    stacked = FailureModeClassifier(
        name="s", calibration_folds=2, prior=small_classifier, prior_weight=0.5
    ).fit(texts, labels)
    assert list(stacked.feature_names_[-5:]) == [f"prior:{m}" for m in stacked.labels_]
    plain = FailureModeClassifier(name="s", calibration_folds=2).fit(texts, labels)
    assert stacked.version_ != plain.version_  # the prior is part of the identity
    new = ["Scammers used a deepfake voice clone of a CEO to steal money."]
    hits = list(_matcher().find_many(new))
    features = stacked._features(new, hits)
    proba = small_classifier.predict_proba(new)[0]
    expected = 0.5 * np.log(np.clip(proba, 0.01, 0.99) / (1 - np.clip(proba, 0.01, 0.99)))
    assert features[0, -5:].toarray()[0] == pytest.approx(expected)
    assert stacked.predict_proba(new).shape == (1, 5)


def test_a_prior_gives_out_of_fold_answers_for_texts_it_learnt_from(
    small_classifier: FailureModeClassifier, texts_and_labels: tuple[list, list]
) -> None:
    texts, _ = texts_and_labels
    assert len(small_classifier.oof_proba_) == len(set(texts))
    stacked = FailureModeClassifier(prior=small_classifier, prior_weight=1.0)
    hits: list[list] = [[] for _ in texts]
    training = stacked._prior_block(texts, hits, training=True).toarray()
    predicting = stacked._prior_block(texts, hits).toarray()
    oof = np.clip(np.array([small_classifier.oof_proba_[_text_key(t)] for t in texts]), 0.01, 0.99)
    assert training == pytest.approx(np.log(oof / (1 - oof)))
    # In-sample answers are more confident than out-of-fold ones: the reason for the swap.
    assert not np.allclose(training, predicting)
    unseen = stacked._prior_block(["An unrelated text."], [[]], training=True).toarray()
    assert unseen == pytest.approx(stacked._prior_block(["An unrelated text."], [[]]).toarray())


def test_threshold_weight_decides_which_examples_set_the_threshold() -> None:
    chooser = FailureModeClassifier()
    oof = np.array([0.9, 0.51, 0.41, 0.31])
    target = np.array([1, 0, 1, 0])
    # All four: cutting below 0.41 keeps both positives and one negative (F1 0.8).
    assert chooser._choose_threshold(oof, target, np.ones(4)) == 0.325
    # Without the positive at 0.41, only the one at 0.9 is worth keeping (F1 1.0).
    assert chooser._choose_threshold(oof, target, np.array([1.0, 1.0, 0.0, 1.0])) == 0.525


def test_threshold_weight_leaves_the_models_alone(texts_and_labels: tuple[list, list]) -> None:
    texts, labels = texts_and_labels
    base = FailureModeClassifier(name="x", calibration_folds=2).fit(texts, labels)
    ones = FailureModeClassifier(name="x", calibration_folds=2).fit(
        texts, labels, threshold_weight=np.ones(len(texts))
    )
    assert np.array_equal(ones.thresholds_, base.thresholds_)
    assert np.allclose(ones.coef_, base.coef_, atol=1e-4)  # liblinear: same fit, within tol
    # Thresholds set another way make another model version.
    assert ones.version_ != base.version_
    with pytest.raises(ValueError, match="threshold_weight has shape"):
        FailureModeClassifier(calibration_folds=2).fit(texts, labels, threshold_weight=[1.0])
