"""RelevanceFilter: lemma matching, evidence, the model, and the shipped default filter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ingest.relevance
from ingest.relevance import (
    FILTER_NAME,
    FILTER_VERSION,
    Example,
    Relevance,
    RelevanceFilter,
    load_default_filter,
    read_examples,
    read_terms,
)
from ingest.relevance._nlp import lemma_of, make_nlp, norms

EXAMPLES = [
    Example(
        "Robotaxi crashes into bus", "The driverless car hit a bus and injured two people.", True
    ),
    Example("Chatbot tells user to harm himself", "The AI chatbot gave dangerous advice.", True),
    Example("Face recognition leads to wrongful arrest", "Police arrested the wrong man.", True),
    Example("Deepfake video used in fraud", "Scammers used a deepfake to steal money.", True),
    Example("Algorithm denied loans to women", "The credit algorithm was biased.", True),
    Example("Startup launches chatbot for shops", "The AI assistant answers questions.", False),
    Example("AI lab raises funds", "Investors put money into the machine learning startup.", False),
    Example("New robot vacuum on sale", "The robot maps rooms and cleans floors.", False),
    Example("City council approves budget", "Councillors voted for more road repairs.", False),
    Example("Team wins the cup final", "The striker scored twice in the second half.", False),
]


@pytest.fixture(scope="module")
def small() -> RelevanceFilter:
    return RelevanceFilter(
        ai_terms=["AI", "chatbot", "robotaxi", "face recognition", "deepfake", "algorithm"],
        harm_terms=["crash", "injure", "arrest", "fraud", "biased", "dangerous"],
        system_terms=["software"],
        entities=["Ridepath"],
    ).fit(EXAMPLES)


def test_exported_names() -> None:
    assert sorted(ingest.relevance.__all__) == sorted(
        [
            "FILTER_NAME",
            "FILTER_VERSION",
            "Example",
            "Relevance",
            "RelevanceFilter",
            "RelevanceScore",
            "build_default_filter",
            "evaluate_relevance",
            "load_default_filter",
            "read_examples",
            "read_terms",
        ]
    )


def test_lemmas() -> None:
    assert [lemma_of(w) for w in ("Crashed", "chatbots", "deepfakes", "bias", "AI", "data")] == [
        "crash",
        "chatbot",
        "deepfake",
        "bias",
        "ai",
        "data",
    ]
    doc = make_nlp()("Two robotaxis CRASHED; 3 people were injured.")
    assert norms(doc) == ["two", "robotaxi", "crash", "<num>", "people", "be", "injure"]


def test_matches_lemmas_and_acronyms_and_reports_them(small: RelevanceFilter) -> None:
    verdict = small.score(
        "Ridepath robotaxis crashed",
        "The software glitch injured riders. Ai Weiwei, the artist, was not involved.",
    )
    spans = [e for e in verdict.evidence if not e.startswith("model: ")]
    # "AI" matches only in capitals: the artist's name "Ai" is not an AI term.
    assert spans == [
        "ai: robotaxis",
        "system: software",
        "harm: crashed",
        "harm: injured",
        "entity: ridepath",
    ]
    assert any(e.startswith("model: ") for e in verdict.evidence)


def test_scores_incidents_above_other_news(small: RelevanceFilter) -> None:
    incident = small.score("Chatbot gave dangerous advice", "The AI chatbot told a teen to harm.")
    launch = small.score("Council votes on budget", "The council approved road repairs.")
    assert incident.score > launch.score
    assert isinstance(incident, Relevance) and 0.0 <= launch.score <= incident.score <= 1.0
    assert incident.relevant == (incident.score >= small.threshold)


def test_score_many_is_score_in_batches(small: RelevanceFilter) -> None:
    items = [(e.title, e.text) for e in EXAMPLES]
    assert small.score_many(items) == [small.score(t, x) for t, x in items]
    assert small.score_many([]) == []
    assert small.score_many(iter([("", "")]))[0].evidence[:1] != ["ai: "]


def test_score_many_reads_its_input_in_chunks(
    small: RelevanceFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [(e.title, e.text) for e in EXAMPLES]
    whole = small.score_many(items)
    monkeypatch.setattr("ingest.relevance._filter._CHUNK", 3)
    assert small.score_many(iter(items)) == whole


def test_with_entities_returns_a_new_filter(small: RelevanceFilter) -> None:
    text = "Acme Robotics recalled its delivery robot after a crash."
    wider = small.with_entities(["Acme Robotics", " ", "Ridepath"])
    assert "entity: acme robotics" in wider.score("Recall", text).evidence
    assert "entity: acme robotics" not in small.score("Recall", text).evidence
    assert wider.entity_names_ == ("Ridepath", "Acme Robotics")
    assert (wider.name, wider.version) == (FILTER_NAME, FILTER_VERSION)


def test_unfitted_and_one_class_are_errors() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        RelevanceFilter().score("t", "x")
    with pytest.raises(ValueError, match="relevant and irrelevant"):
        RelevanceFilter().fit([e for e in EXAMPLES if e.relevant])


def test_read_terms_and_examples(tmp_path: Path) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("# comment\nAI\n\n  machine learning  \n")
    assert read_terms(terms) == ["AI", "machine learning"]
    good = tmp_path / "ex.jsonl"
    good.write_text(
        json.dumps({"title": "T", "text": "X", "relevant": True, "kind": "incident"})
        + "\n\n"
        + json.dumps({"id": "n1", "title": "U", "text": "Y", "relevant": 0})
        + "\n"
    )
    assert read_examples(good) == [
        Example("T", "X", True, "ex.jsonl:1", "incident"),
        Example("U", "Y", False, "n1", ""),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "T", "text": "X", "relevant": true}\n{"title": "T"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl, line 2"):
        read_examples(bad)
    worse = tmp_path / "worse.jsonl"
    worse.write_text('{"title": "T", "text": "X", "relevant": "yes"}\n')
    with pytest.raises(ValueError, match=r"worse\.jsonl, line 1.*true or false"):
        read_examples(worse)


def test_default_filter_on_news_it_never_saw() -> None:
    flt = load_default_filter()
    assert flt is load_default_filter()
    assert (flt.name, flt.version) == ("relevance", FILTER_VERSION)
    verdicts = flt.score_many(
        [
            (
                "Driverless shuttle hits cyclist, city halts trial",
                "An autonomous shuttle struck a cyclist who was taken to hospital with injuries; "
                "the city suspended the pilot while police investigate.",
            ),
            (
                "Chipmaker reports record quarterly revenue",
                "Sales of its graphics processors rose as cloud companies bought more hardware.",
            ),
        ]
    )
    assert [v.relevant for v in verdicts] == [True, False]
    assert "harm: injuries" in verdicts[0].evidence


def test_shipped_training_and_evaluation_texts_are_apart() -> None:
    from incidentdb._data import bundled_data

    train = read_examples(bundled_data("relevance", "train.jsonl"))
    mix = read_examples(bundled_data("relevance", "eval_mix.jsonl"))
    assert {e.title for e in train}.isdisjoint({e.title for e in mix})
    assert {e.text for e in train}.isdisjoint({e.text for e in mix})
    assert len({e.id for e in train}) == len(train) and len({e.id for e in mix}) == len(mix)
    for examples in (train, mix):
        assert {e.relevant for e in examples} == {True, False}


def test_docstring_examples() -> None:
    import doctest

    import ingest.relevance._nlp

    for module in (ingest.relevance, ingest.relevance._nlp):
        assert doctest.testmod(module).failed == 0
