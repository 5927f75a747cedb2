"""Grouper: URL match wins, text and entities decide, and the stream is grouped online."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import ingest.grouping
from ingest.grouping import Grouper, GroupingItem, GroupMatch, extract_entities, pairwise_score

FIXTURE = Path(__file__).parent / "fixtures" / "real_report_texts.jsonl"

ROBOTAXI = GroupingItem(
    "a",
    "Ridepath robotaxi drags pedestrian in Harbor City",
    "A Ridepath driverless taxi struck a pedestrian and dragged her before stopping.",
    entities=frozenset({"ridepath", "harbor city"}),
    date=dt.date(2025, 10, 3),
)
ROBOTAXI_2 = GroupingItem(
    "b",
    "Harbor City suspends Ridepath permit after robotaxi dragged pedestrian",
    "Regulators suspended the permit of Ridepath after its driverless taxi dragged a pedestrian.",
    entities=frozenset({"ridepath", "harbor city", "regulators"}),
    date=dt.date(2025, 10, 5),
)
HIRING = GroupingItem(
    "c",
    "Kestrel hiring model penalised women",
    "Kestrel Logistics scrapped its résumé screening model after it penalised women.",
    entities=frozenset({"kestrel", "kestrel logistics"}),
)


def test_exported_names() -> None:
    assert sorted(ingest.grouping.__all__) == [
        "GroupMatch",
        "Grouper",
        "GroupingItem",
        "GroupingScore",
        "evaluate_grouping",
        "extract_entities",
        "pairwise_score",
    ]


def test_extract_entities() -> None:
    text = (
        "The Boeing 737 MAX crashed, Lion Air's pilots said on Monday. Regulators said "
        "Fraudsters used a Tesla Autopilot clip. The Bank of America and IBM agreed."
    )
    assert sorted(extract_entities(text)) == [
        "bank of america",
        "boeing",
        "ibm",
        "lion air",
        "max",
        "tesla autopilot",
    ]
    assert extract_entities("no capitals here at all") == frozenset()


def test_extract_entities_keeps_the_most_frequent() -> None:
    text = "Acme said. Acme did. Borealis came. Corvid left."
    assert extract_entities(text, limit=1) == frozenset({"acme"})


def test_same_report_by_canonical_url_always_wins() -> None:
    item = GroupingItem(
        "new",
        "Unrelated words entirely",
        "Nothing alike.",
        urls=frozenset({"HTTPS://News.Example.com/story?utm_source=rss#top"}),
    )
    cand = GroupingItem(
        "old", "Other title", "Other text.", urls=frozenset({"https://news.example.com/story"})
    )
    match = Grouper(threshold=0.99).decide(item, [HIRING, cand])
    assert match == GroupMatch("old", 1.0, ["same URL https://news.example.com/story"])


def test_text_and_entities_make_the_score() -> None:
    matches = Grouper().best_matches(ROBOTAXI_2, [HIRING, ROBOTAXI])
    assert [m.key for m in matches] == ["a", "c"]
    best = matches[0]
    assert best.score > 0.5
    assert best.reasons[1:] == [
        "shared entities: harbor city, ridepath",
        "2 days apart (within the 365-day window)",
    ]
    assert best.reasons[0].startswith("text similarity 0.")
    assert matches[1].score == 0.0
    assert matches[1].reasons == ["text similarity 0.00"]


def test_entity_overlap_adds_its_weight() -> None:
    without = Grouper(entity_weight=0.0).best_matches(ROBOTAXI_2, [ROBOTAXI])[0].score
    with_names = Grouper(entity_weight=0.5).best_matches(ROBOTAXI_2, [ROBOTAXI])[0].score
    # Jaccard of {ridepath, harbor city} and {ridepath, harbor city, regulators} is 2/3.
    assert with_names == pytest.approx(without + 0.5 * 2 / 3, abs=1e-3)


def test_dates_outside_the_window_halve_the_score() -> None:
    late = GroupingItem(**{**ROBOTAXI_2.__dict__, "date": dt.date(2027, 1, 1)})
    inside = Grouper(entity_weight=0.0, window_days=1000).best_matches(late, [ROBOTAXI])[0]
    outside = Grouper(entity_weight=0.0, window_days=30).best_matches(late, [ROBOTAXI])[0]
    assert outside.score == pytest.approx(inside.score / 2, abs=1e-3)
    assert outside.reasons[-1] == "455 days apart (outside the 30-day window)"


def test_decide_opens_a_new_incident_below_the_threshold() -> None:
    assert Grouper().decide(HIRING, [ROBOTAXI, ROBOTAXI_2]) is None
    assert Grouper().decide(HIRING, []) is None
    match = Grouper().decide(ROBOTAXI_2, [HIRING, ROBOTAXI])
    assert match is not None and match.key == "a"


def test_candidates_sharing_a_key_are_one_incident() -> None:
    incident_reports = [
        GroupingItem(7, ROBOTAXI.title, ROBOTAXI.text, entities=ROBOTAXI.entities),
        GroupingItem(
            7, "Ridepath statement", "We are reviewing.", entities=frozenset({"ridepath"})
        ),
        GroupingItem(8, HIRING.title, HIRING.text, entities=HIRING.entities),
    ]
    matches = Grouper().best_matches(ROBOTAXI_2, incident_reports, k=5)
    assert [m.key for m in matches] == [7, 8]
    assert Grouper().best_matches(ROBOTAXI_2, incident_reports, k=1)[0].key == 7


def test_cluster_groups_a_stream_online() -> None:
    refund = GroupingItem("d", "Chatbot invents refund policy", "The airline's chatbot was wrong.")
    groups = Grouper().cluster([ROBOTAXI, HIRING, ROBOTAXI_2, refund])
    assert groups == [["a", "b"], ["c"], ["d"]]
    assert Grouper().cluster([]) == []


def test_cluster_joins_by_url_even_without_similar_text() -> None:
    one = GroupingItem("x", "Alpha", "Alpha words.", urls=frozenset({"https://e.com/1"}))
    two = GroupingItem("y", "Beta", "Beta words.", urls=frozenset({"https://E.com/1?utm_medium=x"}))
    assert Grouper().cluster([one, HIRING, two]) == [["x", "y"], ["c"]]


def test_cluster_copes_with_empty_texts() -> None:
    empty = [GroupingItem("e1", "", ""), GroupingItem("e2", "", "")]
    assert Grouper().cluster(empty) == [["e1"], ["e2"]]


def test_pairwise_score_exact() -> None:
    truth = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
    # True pairs: ab ac bc de (4). Predicted: ab, cd (2); correct: ab (1).
    score = pairwise_score("t", truth, [["a", "b"], ["c", "d"], ["e"]])
    assert (score.true_pairs, score.predicted_pairs, score.correct_pairs) == (4, 2, 1)
    assert (score.precision, score.recall, score.f1) == (0.5, 0.25, 0.3333)
    assert (score.items, score.incidents, score.groups) == (5, 2, 3)
    nothing = pairwise_score("t", {"a": 1, "b": 2}, [["a"], ["b"]])
    assert (nothing.precision, nothing.recall, nothing.f1) == (None, None, None)


def test_a_fitted_grouper_ranks_like_an_unfitted_one_and_caches_vectors() -> None:
    corpus = [ROBOTAXI, ROBOTAXI_2, HIRING]
    fitted = Grouper().fit(corpus)
    assert fitted.fit(corpus) is fitted and fitted.fitted_on_ == 3
    matches = fitted.best_matches(ROBOTAXI_2, [HIRING, ROBOTAXI])
    assert [m.key for m in matches] == ["a", "c"]
    assert matches[0].score > 0.5 and matches[1].score == 0.0
    assert set(fitted._vectors) == {ROBOTAXI_2, HIRING, ROBOTAXI}
    # Fitted on the same texts it would weigh by, it scores exactly as an unfitted grouper.
    unfitted = Grouper().best_matches(ROBOTAXI_2, [HIRING, ROBOTAXI])
    assert [(m.key, m.score, m.reasons) for m in matches] == [
        (m.key, m.score, m.reasons) for m in unfitted
    ]
    # A URL still matches whatever the words.
    stranger = GroupingItem("z", "Zebra", "Quokka.", urls=frozenset({"https://e.com/a"}))
    twin = GroupingItem("t", "Other", "Other.", urls=frozenset({"https://e.com/a"}))
    assert fitted.decide(stranger, [twin]) == GroupMatch("t", 1.0, ["same URL https://e.com/a"])


def test_words_the_fitted_corpus_never_saw_still_count() -> None:
    # Fitted on last month's stories, the grouper must still join two reports of a new one,
    # which share mostly words (a new product's name) the corpus never had.
    fitted = Grouper().fit([ROBOTAXI, HIRING])
    first = GroupingItem("n1", "Quillbot Zephyr leaks Zorvia patient files", "Zephyr Zorvia.")
    second = GroupingItem("n2", "Zorvia suspends Zephyr after patient files leak", "Zephyr.")
    match = fitted.decide(second, [ROBOTAXI, HIRING, first])
    assert match is not None and match.key == "n1" and match.score > 0.5


def test_fit_if_grown_fits_again_only_when_the_candidates_have_doubled() -> None:
    items = [
        GroupingItem(i, f"Report {i} on system {i}", f"Text {i} about word{i}.") for i in range(9)
    ]
    grouper = Grouper()
    assert grouper.fit_if_grown([]) is False and not hasattr(grouper, "vectorizer_")
    assert grouper.fit_if_grown(items[:2]) is True and grouper.fitted_on_ == 2
    assert grouper.fit_if_grown(items[:3]) is False and grouper.fitted_on_ == 2
    assert grouper.fit_if_grown(items[:4]) is True and grouper.fitted_on_ == 4
    # At most max_items, an even sample; once fitted on that many it never fits again.
    assert grouper.fit_if_grown(items, max_items=3) is False
    capped = Grouper()
    assert capped.fit_if_grown(items, max_items=3) is True and capped.fitted_on_ == 3
    assert capped.fit_if_grown([*items, *items], max_items=3) is False


def test_fitted_vectors_equal_sklearn_tfidf_on_the_corpus() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from ingest.grouping._grouper import _OpenTfidf

    texts = [ROBOTAXI.text, ROBOTAXI_2.text, HIRING.text, "Driverless taxi driverless taxi."]
    ours = _OpenTfidf().fit(texts).transform(texts)
    theirs = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    assert np.allclose((ours @ ours.T).toarray(), (theirs @ theirs.T).toarray())


def test_docstring_examples() -> None:
    import doctest

    import ingest.grouping._grouper

    for module in (ingest.grouping, ingest.grouping._grouper):
        assert doctest.testmod(module).failed == 0
