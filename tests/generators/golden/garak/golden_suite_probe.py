"""garak probe for the incidentdb suite "golden suite" (written by incidentdb, garak.v1).

Copy this file and golden_suite.garak_conversations.json into garak/probes/ and run
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

CONVERSATIONS = Path(__file__).with_name("golden_suite.garak_conversations.json")


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
