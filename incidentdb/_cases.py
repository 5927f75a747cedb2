"""The test case: one replayable adversarial conversation built from real incidents.

A :class:`TestCase` is the interchange format between generators (which build cases from
incidents), the store (suites and cases tables), the exporters (one per eval harness) and replay.
It is versioned by :data:`CASE_SCHEMA_VERSION`; a change of meaning is a new version.

Messages follow the OpenAI chat-completions shape (system / user / assistant / tool, tool calls
with ids and JSON-encoded arguments), so a case replays against any compatible endpoint as is.

The case id is a hash of the case's canonical JSON without the id itself: the same incident,
generator and seed build the same content and so the same id, and any change of content is a new
id (a regression run compares like with like).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "CASE_SCHEMA_VERSION",
    "CaseKind",
    "JudgeSpec",
    "Message",
    "Provenance",
    "TechniqueRef",
    "TestCase",
    "Tool",
    "ToolCall",
    "ToolCallCheck",
    "canonical_json",
]

CASE_SCHEMA_VERSION: Literal[1] = 1
"""The version of the :class:`TestCase` format written by this code."""

CaseKind = Literal["single_turn", "multi_turn", "agentic", "distribution_shift"]
Role = Literal["system", "user", "assistant", "tool"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _sorted_keys(value: Any) -> Any:
    """`value` with every mapping's keys in sorted order, so its JSON is canonical."""
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


class ToolCall(_Model):
    """A function call an assistant message makes (OpenAI `tool_calls[]`).

    Attributes:
        id: the call id a tool message answers with `tool_call_id`.
        name: the function's name.
        arguments: the arguments as a JSON object string, as the OpenAI API carries them.
    """

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str = "{}"

    @field_validator("arguments")
    @classmethod
    def _json_object(cls, value: str) -> str:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"tool call arguments are not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ValueError("tool call arguments must be a JSON object")
        return value

    def parsed_arguments(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.arguments)
        return parsed

    def openai(self) -> dict[str, Any]:
        """This call in the OpenAI wire format."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


class Message(_Model):
    """One chat message.

    Attributes:
        role: system, user, assistant or tool.
        content: the text; None only for an assistant message that only calls tools.
        tool_calls: calls an assistant message makes.
        tool_call_id: for a tool message, the id of the call it answers.
        name: for a tool message, the function that produced it.
    """

    role: Role
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Message:
        if self.tool_calls and self.role != "assistant":
            raise ValueError(f"a {self.role} message cannot make tool calls")
        if (self.role == "tool") != (self.tool_call_id is not None):
            raise ValueError("tool messages, and only they, carry a tool_call_id")
        if self.content is None and not self.tool_calls:
            raise ValueError(f"a {self.role} message needs content")
        return self

    def openai(self) -> dict[str, Any]:
        """This message in the OpenAI chat-completions wire format."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [call.openai() for call in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


class Tool(_Model):
    """A function the model under test is offered (OpenAI `tools[]`, type function).

    Attributes:
        name: the function's name.
        description: what it does, as the model sees it.
        parameters: a JSON schema of its arguments.
        dangerous: True for a tool whose call would carry out the harm; judges watch it.
        result: the scripted result replay feeds back when the model calls the tool (a planted
            injection lives here for agentic cases); None means a neutral "ok".
    """

    name: str = Field(min_length=1)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    dangerous: bool = False
    result: str | None = None

    @field_validator("parameters")
    @classmethod
    def _canonical(cls, value: dict[str, Any]) -> dict[str, Any]:
        canonical: dict[str, Any] = _sorted_keys(value)
        return canonical

    def openai(self) -> dict[str, Any]:
        """This tool in the OpenAI `tools[]` wire format."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


class ToolCallCheck(_Model):
    """A tool call a judge looks for: the name, and arguments that must match where given.

    Attributes:
        name: the function's name.
        arguments: argument values that must all be present with these values (a subset match);
            empty means any call of the function matches.
    """

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)

    @field_validator("arguments")
    @classmethod
    def _canonical(cls, value: dict[str, Any]) -> dict[str, Any]:
        canonical: dict[str, Any] = _sorted_keys(value)
        return canonical

    def matches(self, call: ToolCall) -> bool:
        if call.name != self.name:
            return False
        try:
            given = call.parsed_arguments()
        except json.JSONDecodeError:
            return not self.arguments
        return all(given.get(k) == v for k, v in self.arguments.items())


class JudgeSpec(_Model):
    """How to tell whether the model under test behaved safely. Every given check must pass.

    Attributes:
        refusal: True when the safe behaviour is to decline (a refusal detector decides).
        must_not_contain: strings the reply must not contain (canaries planted in a system prompt
            or document, secrets); compared case-insensitively.
        must_contain: strings the reply must contain.
        must_not_call: tool calls that must not happen.
        must_call: tool calls that must happen.
        must_not_match: regular expressions the reply must not match.
        must_match: regular expressions the reply must match.
        rubric: instructions for an LLM judge (what counts as a failure), as text.
        every_turn: apply the text checks (must-contain, must-not-contain, regexes, rubric) to
            every assistant turn, not only the last; `refusal` always concerns the last reply
            (a crescendo's harmless opening turns should be answered).
    """

    refusal: bool = False
    must_not_contain: list[str] = Field(default_factory=list)
    must_contain: list[str] = Field(default_factory=list)
    must_not_call: list[ToolCallCheck] = Field(default_factory=list)
    must_call: list[ToolCallCheck] = Field(default_factory=list)
    must_not_match: list[str] = Field(default_factory=list)
    must_match: list[str] = Field(default_factory=list)
    rubric: str | None = None
    every_turn: bool = False


class TechniqueRef(_Model):
    """A taxonomy node a case tests, with its crosswalk codes (`"atlas:AML.T0051.001"`)."""

    id: str = Field(min_length=1)
    crosswalk: list[str] = Field(default_factory=list)


class Provenance(_Model):
    """Where a case comes from.

    Attributes:
        incident_ids: the AIID incident ids it was built from.
        report_urls: the reports whose text it used.
        failure_modes: the failure modes (taxonomy mode nodes) it tests, with crosswalk codes.
        techniques: the techniques (taxonomy technique nodes) it tests, with crosswalk codes.
        generator: the builder's versioned name (`"single_turn.v1"`).
        seed: the seed it was built with.
        mutators: the mutators applied, in order, with their parameters (`"encoding:base64"`).
        variant: which variant of the builder's output this is (0 = the base case).
    """

    incident_ids: list[int] = Field(default_factory=list)
    report_urls: list[str] = Field(default_factory=list)
    failure_modes: list[TechniqueRef] = Field(default_factory=list)
    techniques: list[TechniqueRef] = Field(default_factory=list)
    generator: str = Field(min_length=1)
    seed: int = 0
    mutators: list[str] = Field(default_factory=list)
    variant: int = 0


class TestCase(_Model):
    """One replayable test case (schema version :data:`CASE_SCHEMA_VERSION`).

    Attributes:
        schema_version: the version of this format.
        id: a content hash (see :meth:`compute_id`); filled in when not given.
        kind: single_turn, multi_turn, agentic or distribution_shift.
        title: one line for people.
        messages: the conversation to send, ending with the user (or tool) turn to answer.
        tools: the tools offered to the model.
        follow_ups: scripted user turns that replay sends, one after each assistant reply.
        expected_behavior: the safe behaviour, in words.
        judge: the checks that decide pass or fail.
        provenance: incidents, reports, failure modes, generator, seed, mutators.
    """

    # pytest would otherwise try to collect this class from tests that import it.
    __test__ = False

    schema_version: Literal[1] = CASE_SCHEMA_VERSION
    id: str = ""
    kind: CaseKind
    title: str
    messages: list[Message] = Field(min_length=1)
    tools: list[Tool] = Field(default_factory=list)
    follow_ups: list[str] = Field(default_factory=list)
    expected_behavior: str
    judge: JudgeSpec = Field(default_factory=JudgeSpec)
    provenance: Provenance

    @model_validator(mode="after")
    def _fill_id(self) -> TestCase:
        if not self.id:
            self.id = self.compute_id()
        return self

    def compute_id(self) -> str:
        """`tc-` and 24 hex digits of the SHA-256 of the case's JSON without the id.

        pydantic writes fields in declaration order and the free-form mappings (tool
        parameters, checked arguments) are key-sorted on validation, so this JSON is canonical
        for a schema version. Rust-side serialisation keeps generation fast (sorting the whole
        dump in Python took a fifth of the generation time).
        """
        body = self.model_dump_json(exclude={"id"})
        return "tc-" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:24]

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): byte-identical for equal cases."""
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, text: str | bytes) -> TestCase:
        return cls.model_validate_json(text)

    def openai_messages(self) -> list[dict[str, Any]]:
        """The conversation in the OpenAI chat-completions wire format."""
        return [m.openai() for m in self.messages]

    def dangerous_tools(self) -> list[str]:
        return [t.name for t in self.tools if t.dangerous]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace, non-ASCII kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
