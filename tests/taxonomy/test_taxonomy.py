"""The shipped taxonomy: the guide's five modes, the techniques, crosswalk lookups both ways."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import taxonomy
from incidentdb import IncidentDBError, NotFoundError
from incidentdb._data import bundled_data
from taxonomy import SCHEMES, CrosswalkEntry, Taxonomy, load_taxonomy

TECHNIQUES = {
    "agentic.tool_misuse": ("agentic",),
    "agentic.data_exfiltration": ("agentic", "adversarial"),
    "distribution_shift.demographic_underrepresentation": ("distribution_shift",),
    "distribution_shift.environment_shift": ("distribution_shift",),
    "distribution_shift.concept_drift": ("distribution_shift",),
    "adversarial.prompt_injection": ("adversarial",),
    "adversarial.prompt_injection.direct": ("adversarial",),
    "adversarial.prompt_injection.indirect": ("adversarial", "agentic"),
    "adversarial.jailbreak": ("adversarial",),
    "adversarial.jailbreak.role_play": ("adversarial",),
    "adversarial.jailbreak.prefilling": ("adversarial",),
    "adversarial.jailbreak.adversarial_suffix": ("adversarial",),
    "adversarial.jailbreak.cot_hijacking": ("adversarial",),
    "adversarial.jailbreak.encoding_obfuscation": ("adversarial",),
    "adversarial.jailbreak.many_shot": ("adversarial",),
    "adversarial.jailbreak.crescendo": ("adversarial", "multi_turn"),
    "adversarial.fine_tuning_safety_erosion": ("adversarial",),
}


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy()


def test_exported_names() -> None:
    assert sorted(taxonomy.__all__) == [
        "ClassifyResult",
        "CrosswalkEntry",
        "FailureModeClassifier",
        "Node",
        "RuleHit",
        "RuleMatcher",
        "SCHEMES",
        "SchemeInfo",
        "Tag",
        "Tagging",
        "Taxonomy",
        "build_default",
        "classify",
        "default_cache_path",
        "default_classifier",
        "evaluate",
        "evaluate_techniques",
        "import_labels",
        "label_incident",
        "load_classifier",
        "load_examples",
        "load_taxonomy",
        "read_label_file",
        "train",
    ]
    assert SCHEMES == ("atlas", "owasp-llm", "owasp-asi", "mit", "avid", "gmf")


def test_the_guides_five_labels_with_definitions_and_exclusions(tax: Taxonomy) -> None:
    assert [m.id for m in tax.modes] == [
        "multi_turn",
        "agentic",
        "distribution_shift",
        "adversarial",
        "misuse",
    ]
    for mode in tax.modes:
        assert mode.kind == "mode" and mode.parent is None and mode.modes == (mode.id,)
        assert mode.summary and mode.definition and mode.examples and mode.exclusions
    # The guide's wording where it draws the line between modes.
    assert tax.get("multi_turn").exclusions[0] == "one prompt that produced a harmful output"
    assert "physical autonomous vehicles, drones and robots" in tax.get("agentic").exclusions
    assert tax.get("adversarial").exclusions == (
        "a person using an AI system that works as intended to harm others (that is misuse), "
        "unless safeguards had to be bypassed to do it (then both)",
    )
    assert "good faith" in tax.get("misuse").exclusions[0]
    assert tax.get("distribution_shift").definition == (
        "The system failed because the inputs or conditions it met in deployment differed "
        "from what it was trained or evaluated on."
    )


def test_techniques_and_the_modes_they_belong_to(tax: Taxonomy) -> None:
    assert {t.id: t.modes for t in tax.techniques} == TECHNIQUES
    for technique in tax.techniques:
        parent = tax.get(technique.parent or "")
        assert technique.id == f"{parent.id}.{technique.id.rsplit('.', 1)[1]}"
        assert technique.summary and technique.definition and technique.crosswalk


def test_crosswalk_from_a_node(tax: Taxonomy) -> None:
    assert tax.crosswalk("adversarial.prompt_injection.direct", "atlas") == [
        CrosswalkEntry(scheme="atlas", code="AML.T0051.000", name="Direct", match="exact"),
        CrosswalkEntry(
            scheme="atlas",
            code="AML.T0056",
            name="Extract LLM System Prompt",
            match="related",
            note="introduced in ATLAS 4.5.0 as 'LLM Meta Prompt Extraction'",
        ),
    ]
    assert [(e.code, e.match) for e in tax.crosswalk("adversarial.jailbreak", "atlas")] == [
        ("AML.T0054", "exact")
    ]
    assert [e.code for e in tax.crosswalk("adversarial.prompt_injection.indirect", "atlas")] == [
        "AML.T0051.001",
        "AML.T0051.002",
        "AML.T0070",
        "AML.T0080",
        "AML.T0093",
    ]
    assert [e.label for e in tax.crosswalk("adversarial", "mit")] == [
        "2.2. AI system security vulnerabilities and attacks"
    ]
    assert [e.label for e in tax.crosswalk("distribution_shift.concept_drift", "avid")] == [
        "P0102: Concept drift",
        "P0101: Data drift",
    ]
    assert [e.code for e in tax.crosswalk("agentic", "owasp-asi")] == [
        f"ASI{n:02d}" for n in range(1, 11)
    ]
    assert tax.crosswalk("multi_turn", "owasp-llm") == []


def test_crosswalk_back_from_an_external_code(tax: Taxonomy) -> None:
    assert tax.from_external("atlas", "AML.T0051.001") == ["adversarial.prompt_injection.indirect"]
    assert tax.from_external("atlas", "aml.t0086") == ["agentic.data_exfiltration"]
    assert tax.from_external("atlas", "AML.T0051") == ["adversarial.prompt_injection"]
    assert tax.from_external("owasp-llm", "LLM07:2025") == ["adversarial.prompt_injection.direct"]
    assert tax.from_external("owasp-asi", "ASI-02") == [
        "agentic",
        "agentic.tool_misuse",
        "agentic.data_exfiltration",
    ]
    # AVID codes match by prefix: a category finds what is mapped to its subcategories.
    assert tax.from_external("avid", "S0403") == [
        "adversarial",
        "adversarial.jailbreak.adversarial_suffix",
    ]
    assert tax.from_external("avid", "S04") == [
        "distribution_shift.demographic_underrepresentation",
        "adversarial",
        "adversarial.jailbreak.adversarial_suffix",
    ]
    assert tax.from_external("avid", "P01") == ["distribution_shift.concept_drift"]
    # MIT by number or by the exact string AIID stores.
    label = "4.3. Fraud, scams, and targeted manipulation"
    assert tax.from_external("mit", label) == tax.from_external("mit", "4.3") == ["misuse"]
    assert tax.from_external("gmf", "Concept Drift") == ["distribution_shift.concept_drift"]
    assert tax.from_external("gmf", "concept drift") == ["distribution_shift.concept_drift"]
    assert tax.from_external("atlas", "AML.T0000") == []


def test_every_crosswalked_code_finds_its_node(tax: Taxonomy) -> None:
    for node in tax.nodes:
        for entry in node.crosswalk:
            assert node.id in tax.from_external(entry.scheme, entry.code), (node.id, entry)


def test_unverified_names_are_flagged(tax: Taxonomy) -> None:
    assert not tax.scheme_info("owasp-asi").verified
    for node in tax.nodes:
        for entry in node.crosswalk:
            assert entry.verified is (entry.scheme != "owasp-asi"), (node.id, entry.code)


def test_lookup_errors(tax: Taxonomy) -> None:
    with pytest.raises(NotFoundError, match=r"no failure mode or technique 'agentic\.nope'"):
        tax.get("agentic.nope")
    with pytest.raises(NotFoundError):
        tax.crosswalk("nope", "atlas")
    with pytest.raises(IncidentDBError, match=r"unknown scheme 'cwe'; schemes: atlas, owasp-llm"):
        tax.crosswalk("agentic", "cwe")
    with pytest.raises(IncidentDBError, match="unknown scheme"):
        tax.from_external("cwe", "CWE-74")
    with pytest.raises(IncidentDBError, match="empty avid code"):
        tax.from_external("avid", " ")


def test_versions() -> None:
    with pytest.raises(NotFoundError, match=r"no taxonomy version 'v9'; shipped: v1"):
        load_taxonomy("v9")
    with pytest.raises(IncidentDBError, match="should look like 'v1'"):
        load_taxonomy("latest")
    assert load_taxonomy("v1").version == "v1"


def test_json_round_trip(tax: Taxonomy) -> None:
    again = Taxonomy.model_validate_json(tax.model_dump_json())
    assert again == tax
    assert again.get("adversarial.jailbreak.crescendo").modes == ("adversarial", "multi_turn")
    raw = json.loads(bundled_data("taxonomy", "failure_modes.v1.json").read_text("utf-8"))
    assert Taxonomy.model_validate(raw) == tax


def test_the_file_is_stored_canonically() -> None:
    # Stable diffs: two-space indent, keys in authored order, UTF-8, final newline.
    text = bundled_data("taxonomy", "failure_modes.v1.json").read_text("utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


CODES = {
    "atlas": r"AML\.T\d{4}(\.\d{3})?",
    "owasp-llm": r"LLM(0[1-9]|10)",
    "owasp-asi": r"ASI(0[1-9]|10)",
    "mit": r"[1-7]\.[1-9]",
    "avid": r"[SPE]\d{4}",
    "gmf": r"[A-Za-z][A-Za-z ]{0,30}[a-z]",
}


@st.composite
def entries(draw: st.DrawFn) -> CrosswalkEntry:
    scheme = draw(st.sampled_from(SCHEMES))
    return CrosswalkEntry.model_validate(
        {
            "scheme": scheme,
            "code": draw(st.from_regex(CODES[scheme], fullmatch=True)),
            "name": draw(st.text(min_size=1, max_size=40)),
            "match": draw(st.sampled_from(["exact", "broad", "narrow", "related"])),
            "verified": draw(st.booleans()),
            "note": draw(st.none() | st.text(max_size=40)),
        }
    )


@given(entries())
def test_crosswalk_entry_round_trip(entry: CrosswalkEntry) -> None:
    assert CrosswalkEntry.model_validate_json(entry.model_dump_json()) == entry


@pytest.mark.shared
def test_mit_and_gmf_strings_exist_in_aiid(tax: Taxonomy, shared_dir: Path) -> None:
    aiid = shared_dir / "aiid_data"
    taxa = json.loads(
        (
            aiid / "responsible-ai-collaborative+aiid/site/gatsby-site/playwright/seeds/aiidprod"
            "/taxa.ts.json"
        ).read_text("utf-8")
    )
    (mit,) = [t for t in taxa if t["namespace"] == "MIT"]
    (field,) = [f for f in mit["field_list"] if f["short_name"] == "Risk Subdomain"]
    gmf = json.loads((aiid / "derived/gmf_technical_failures_reference.json").read_text("utf-8"))
    failures = {f["name"] for f in gmf["failures"]}
    for node in tax.nodes:
        for entry in node.crosswalk:
            if entry.scheme == "mit":
                assert entry.label in field["permitted_values"], (node.id, entry.label)
            if entry.scheme == "gmf":
                assert entry.code in failures and entry.name == entry.code, (node.id, entry.code)
