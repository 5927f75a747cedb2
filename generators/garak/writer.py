"""`garak.v1`: `<suite>.garak_payload.json`, `<suite>.garak_conversations.json`, `<suite>_probe.py`.

- The payload file follows garak's payload schema (``garak_payload_name``, ``payload_types``,
  ``payloads``): each case's attack turn, for probes that take payloads.
- The probe module defines ``IncidentdbReplay``, a garak ``IterativeProbe`` that replays each
  conversation (system prompt, history, attack turn) and then plays the scripted follow-up
  turns one after each reply, with the case's canaries as triggers for garak's
  ``base.TriggerListDetector``. Copy it and the conversations file into ``garak/probes/`` and
  run ``garak --probes <module>.IncidentdbReplay``.

garak has no tools and no tool role: tool calls and tool results are given as text turns
(marked as such), and judge checks other than canaries and refusal are kept in the
conversation notes. The exporter says which cases this touches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from generators._export import (
    ExportResult,
    Warnings,
    dump_json,
    file_stem,
    open_text,
    prepare_folder,
)
from incidentdb import TestCase

__all__ = ["GarakExporter", "conversation_of"]


def _attack_turn(case: TestCase) -> str:
    for message in reversed(case.messages):
        if message.role in ("user", "tool") and message.content:
            return message.content
    return case.messages[-1].content or ""


def conversation_of(case: TestCase, warnings: Warnings) -> dict[str, Any]:
    """The case as garak turns (`role`, `text`) plus follow-ups, triggers and notes."""
    turns: list[dict[str, str]] = []
    for message in case.messages:
        if message.tool_calls:
            calls = json.dumps([c.openai() for c in message.tool_calls], sort_keys=True)
            text = (message.content or "") + f"[tool calls] {calls}"
            turns.append({"role": "assistant", "text": text})
            warnings.add("garak has no tool calls: they are given as assistant text", case)
        elif message.role == "tool":
            turns.append(
                {"role": "user", "text": f"[result of tool {message.name}] {message.content}"}
            )
            warnings.add("garak has no tool role: tool results are given as user turns", case)
        else:
            turns.append({"role": message.role, "text": message.content or ""})
    judge = case.judge
    if case.tools:
        warnings.add(
            "garak offers no tools: the case's tools and must-call/must-not-call checks are "
            "kept in the conversation notes only",
            case,
        )
    if judge.must_not_match or judge.must_match or judge.must_contain or judge.rubric:
        warnings.add(
            "garak detectors are chosen per probe: regex, must-contain and rubric checks are "
            "kept in the conversation notes, canaries become TriggerListDetector triggers",
            case,
        )
    return {
        "case_id": case.id,
        "turns": turns,
        "follow_ups": case.follow_ups,
        "triggers": judge.must_not_contain,
        "notes": {
            "title": case.title,
            "kind": case.kind,
            "expected_behavior": case.expected_behavior,
            "judge": judge.model_dump(mode="json"),
            "tools": [t.model_dump(mode="json") for t in case.tools],
            "provenance": case.provenance.model_dump(mode="json"),
        },
    }


class GarakExporter:
    """Writes a garak payload file, the conversations, and the probe that replays them."""

    name: ClassVar[str] = "garak.v1"

    def export(self, cases: Iterable[TestCase], out: Path, *, suite: str) -> ExportResult:
        folder = prepare_folder(out)
        stem = file_stem(suite)
        payload_path = folder / f"{stem}.garak_payload.json"
        conv_path = folder / f"{stem}.garak_conversations.json"
        probe_path = folder / f"{stem}_probe.py"
        warnings = Warnings()
        payloads: list[str] = []
        conversations: list[dict[str, Any]] = []
        for case in cases:
            payloads.append(_attack_turn(case))
            conversations.append(conversation_of(case, warnings))
        payload = {
            "garak_payload_name": f"incidentdb {suite}",
            "payload_types": ["Text"],
            "detector_name": "",
            "lang": "*",
            "payloads": payloads,
        }
        with open_text(payload_path) as handle:
            handle.write(dump_json(payload, indent=2) + "\n")
        with open_text(conv_path) as handle:
            handle.write(dump_json(conversations, indent=1) + "\n")
        with open_text(probe_path) as handle:
            handle.write(
                PROBE_TEMPLATE.replace("__SUITE__", suite).replace(
                    "__CONVERSATIONS__", conv_path.name
                )
            )
        return ExportResult(
            self.name, [payload_path, conv_path, probe_path], len(conversations), warnings.render()
        )


PROBE_TEMPLATE = '''\
"""garak probe for the incidentdb suite "__SUITE__" (written by incidentdb, garak.v1).

Copy this file and __CONVERSATIONS__ into garak/probes/ and run
    garak --model_type openai --model_name gpt-4o-mini --probes <this module>.IncidentdbReplay

Each conversation built from a real AI incident is sent as is; then its scripted follow-up
turns are played one after each reply. Replies are checked for the case's canary strings
(base.TriggerListDetector) and for refusals (mitigation.MitigationBypass).
"""

import json
from pathlib import Path

import garak.attempt
from garak import _config
from garak.probes.base import IterativeProbe

CONVERSATIONS = Path(__file__).with_name("__CONVERSATIONS__")


class IncidentdbReplay(IterativeProbe):
    """Replays incidentdb conversations with their scripted follow-up turns."""

    lang = "*"
    active = False
    goal = "repeat the failures of real AI incidents"
    doc_uri = "https://incidentdatabase.ai"
    tags = ["owasp:llm01", "quality:Security:PromptStability"]
    primary_detector = "base.TriggerListDetector"
    extended_detectors = ["mitigation.MitigationBypass"]
    DEFAULT_PARAMS = IterativeProbe.DEFAULT_PARAMS | {
        "end_condition": "verify",
        "max_calls_per_conv": 12,
        "follow_prompt_cap": False,
    }

    def __init__(self, config_root=_config):
        super().__init__(config_root=config_root)
        self.conversations = {
            c["case_id"]: c for c in json.loads(CONVERSATIONS.read_text(encoding="utf-8"))
        }

    def _conversation(self, turns):
        return garak.attempt.Conversation(
            [garak.attempt.Turn(t["role"], garak.attempt.Message(t["text"])) for t in turns]
        )

    def _create_init_attempts(self):
        attempts = []
        for case_id, conv in self.conversations.items():
            attempt = self._create_attempt(self._conversation(conv["turns"]))
            attempt.notes = {"case_id": case_id, "turn": 0, "triggers": conv["triggers"]}
            attempts.append(attempt)
        return attempts

    def _generate_next_attempts(self, last_attempt):
        conv = self.conversations[last_attempt.notes["case_id"]]
        turn = last_attempt.notes["turn"]
        if turn >= len(conv["follow_ups"]):
            return []
        attempts = []
        for output in last_attempt.outputs:
            if output is None or output.text is None:
                continue
            history = last_attempt.prompt.turns + [
                garak.attempt.Turn("assistant", garak.attempt.Message(output.text)),
                garak.attempt.Turn("user", garak.attempt.Message(conv["follow_ups"][turn])),
            ]
            attempt = self._create_attempt(garak.attempt.Conversation(history))
            attempt.notes = {
                "case_id": last_attempt.notes["case_id"],
                "turn": turn + 1,
                "triggers": conv["triggers"],
            }
            attempts.append(attempt)
        return attempts
'''
