"""The spaCy rule matcher: phrases over lemmas, negation and hedging."""

from __future__ import annotations

import pytest

from taxonomy import RuleMatcher
from taxonomy._rules import MODES, RULES, lemma


@pytest.fixture(scope="module")
def rules() -> RuleMatcher:
    return RuleMatcher()


def _hits(rules: RuleMatcher, text: str) -> list[tuple[str, str | None, str, bool, bool]]:
    return [(h.mode, h.technique, h.text, h.negated, h.hedged) for h in rules.find(text)]


def test_lemma_is_consistent_across_inflections() -> None:
    assert {lemma(w) for w in ("hack", "hacked", "hacking", "hacks")} == {"hack"}
    assert {lemma(w) for w in ("jailbreak", "jailbroke", "jailbroken", "jailbreaks")} == {
        "jailbreak"
    }
    assert {lemma(w) for w in ("abuse", "abused", "abuses", "abusing")} == {"abus"}
    assert lemma("bias") == lemma("bias") == "bias"
    assert lemma("n't") == "not"


def test_negated_hits_are_marked(rules: RuleMatcher) -> None:
    assert _hits(rules, "There is no evidence of a jailbreak.") == [
        ("adversarial", "adversarial.jailbreak", "jailbreak", True, False)
    ]
    assert _hits(rules, "The company said the chatbot wasn't jailbroken.") == [
        ("adversarial", "adversarial.jailbreak", "jailbroken", True, False)
    ]
    assert _hits(rules, "Officials denied that a deepfake was used.") == [
        ("misuse", None, "deepfake", True, False)
    ]


def test_hedged_hits_are_marked(rules: RuleMatcher) -> None:
    assert _hits(rules, "Experts warned the app could potentially be misused by scammers.") == [
        ("misuse", None, "misused by", False, True),
        ("misuse", None, "scammers", False, True),
    ]
    assert _hits(rules, "Agents might make purchases for users.") == [
        ("agentic", None, "make purchases", False, True)
    ]


def test_a_cue_does_not_cross_a_clause(rules: RuleMatcher) -> None:
    # "not" governs "hacked" only; the deepfake after "but" is asserted.
    assert _hits(rules, "The bank was not hacked, but scammers used a deepfake of its CEO.") == [
        ("misuse", None, "scammers", False, False),
        ("misuse", None, "deepfake", False, False),
    ]


def test_reportedly_and_allegedly_are_not_hedges(rules: RuleMatcher) -> None:
    hits = rules.find("Scammers reportedly used an allegedly cloned voice to defraud a bank.")
    assert [(h.text, h.asserted) for h in hits] == [
        ("Scammers", True),
        ("cloned voice", True),
        ("defraud", True),
    ]


def test_techniques_and_offsets(rules: RuleMatcher) -> None:
    text = "Hackers used an indirect prompt injection hidden in a web page."
    hits = rules.find(text)
    # "prompt injection" inside the longer phrase is not a second hit.
    assert [(h.key, h.start, h.end) for h in hits] == [
        ("adversarial.prompt_injection.indirect", 16, 41),
    ]
    assert text[16:41] == "indirect prompt injection"
    assert hits[0].as_evidence() == {
        "text": "indirect prompt injection",
        "start": 16,
        "end": 41,
        "rule": "adversarial.prompt_injection.indirect",
    }


def test_every_rule_key_is_a_taxonomy_node() -> None:
    from taxonomy import load_taxonomy

    ids = {n.id for n in load_taxonomy().nodes}
    assert set(RULES) == set(MODES)
    for mode, by_technique in RULES.items():
        for technique in by_technique:
            if technique is not None:
                assert technique in ids and technique.split(".")[0] == mode
