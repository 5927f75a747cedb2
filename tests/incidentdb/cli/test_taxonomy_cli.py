"""`incidentdb taxonomy show`: exact output, and no database touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from incidentdb.cli import cli


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "never-created.sqlite"


def run(db: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--quiet", "--db", str(db), "taxonomy", "show", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    assert not db.exists(), "taxonomy show must not open the store"
    return result.stdout


def test_crosswalk_to_owasp_llm_as_csv(db: Path) -> None:
    assert run(db, "--to", "owasp-llm", "--format", "csv") == (
        "id,code,name,match,verified\n"
        "agentic,LLM06,Excessive Agency,related,true\n"
        "agentic.tool_misuse,LLM06,Excessive Agency,related,true\n"
        "agentic.data_exfiltration,LLM02,Sensitive Information Disclosure,related,true\n"
        "adversarial,LLM04,Data and Model Poisoning,narrow,true\n"
        "adversarial.prompt_injection,LLM01,Prompt Injection,exact,true\n"
        "adversarial.prompt_injection.direct,LLM01,Prompt Injection,broad,true\n"
        "adversarial.prompt_injection.direct,LLM07,System Prompt Leakage,related,true\n"
        "adversarial.prompt_injection.indirect,LLM01,Prompt Injection,broad,true\n"
        "adversarial.prompt_injection.indirect,LLM08,Vector and Embedding Weaknesses,related,true\n"
        "adversarial.jailbreak,LLM01,Prompt Injection,broad,true\n"
        "adversarial.jailbreak.role_play,LLM01,Prompt Injection,broad,true\n"
        "adversarial.jailbreak.prefilling,LLM01,Prompt Injection,broad,true\n"
        "adversarial.jailbreak.adversarial_suffix,LLM01,Prompt Injection,broad,true\n"
        "adversarial.jailbreak.cot_hijacking,LLM01,Prompt Injection,broad,true\n"
        "adversarial.jailbreak.encoding_obfuscation,LLM01,Prompt Injection,broad,true\n"
        "adversarial.jailbreak.many_shot,LLM01,Prompt Injection,broad,true\n"
        "adversarial.jailbreak.crescendo,LLM01,Prompt Injection,broad,true\n"
        "adversarial.fine_tuning_safety_erosion,LLM04,Data and Model Poisoning,related,true\n"
    )


def test_nodes_as_csv(db: Path) -> None:
    lines = run(db, "--format", "csv").splitlines()
    assert lines[0] == "id,parent,name,summary"
    assert lines[1] == (
        "multi_turn,,Multi-turn,"
        '"The failure arose over a sustained back-and-forth between people and a '
        'conversational AI system, not from one request."'
    )
    assert lines[3] == (
        "agentic.tool_misuse,agentic,Tool misuse,"
        '"An agent uses the tools, APIs or code execution it was given in a harmful or '
        'unintended way: it deletes, changes, buys or sends what it should not."'
    )
    assert [line.split(",", 1)[0] for line in lines[1:]] == [
        "multi_turn",
        "agentic",
        "agentic.tool_misuse",
        "agentic.data_exfiltration",
        "distribution_shift",
        "distribution_shift.demographic_underrepresentation",
        "distribution_shift.environment_shift",
        "distribution_shift.concept_drift",
        "adversarial",
        "adversarial.prompt_injection",
        "adversarial.prompt_injection.direct",
        "adversarial.prompt_injection.indirect",
        "adversarial.jailbreak",
        "adversarial.jailbreak.role_play",
        "adversarial.jailbreak.prefilling",
        "adversarial.jailbreak.adversarial_suffix",
        "adversarial.jailbreak.cot_hijacking",
        "adversarial.jailbreak.encoding_obfuscation",
        "adversarial.jailbreak.many_shot",
        "adversarial.jailbreak.crescendo",
        "adversarial.fine_tuning_safety_erosion",
        "misuse",
    ]


def test_crosswalk_to_mit_as_json(db: Path) -> None:
    rows = json.loads(run(db, "--to", "mit", "--format", "json"))
    assert rows[0] == {
        "id": "multi_turn",
        "code": "5.1",
        "name": "Overreliance and unsafe use",
        "match": "related",
        "verified": True,
    }
    assert [(r["id"], r["code"]) for r in rows if r["id"] == "misuse"] == [
        ("misuse", "4.1"),
        ("misuse", "4.2"),
        ("misuse", "4.3"),
    ]


def test_unverified_asi_names_show_as_such(db: Path) -> None:
    rows = json.loads(run(db, "--to", "owasp-asi", "--format", "json"))
    assert {r["verified"] for r in rows} == {False}
    assert rows[0]["code"] == "ASI01" and rows[0]["name"] == "Agent Goal Hijack"


def test_table_has_a_title(db: Path) -> None:
    out = run(db, "--to", "atlas")
    assert out.lstrip().startswith("v1 → MITRE ATLAS (2026.08)")
    assert "AML.T0051.001" in out


def test_unknown_scheme_is_a_usage_error(db: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), "taxonomy", "show", "--to", "cwe"])
    assert result.exit_code == 2
    assert "'cwe' is not one of 'atlas', 'owasp-llm'" in result.output
