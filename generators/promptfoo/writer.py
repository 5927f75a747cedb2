"""`promptfoo.v1`: `<suite>.promptfooconfig.yaml`.

One prompt, ``{{ messages | dump }}``, turns each test's ``vars.messages`` (the case's OpenAI chat
list, tool calls included) into the chat sent to the provider. The conversation lives in vars,
not in the prompt text, so promptfoo's nunjucks engine never renders case text as a template;
the LLM-judge rubric is referenced the same way (``{{ rubric }}``). Judge checks become asserts:
``not-icontains`` (canaries), ``icontains``, ``regex`` / ``not-regex``, ``is-refusal``,
``llm-rubric`` and a ``javascript`` check on tool calls.

promptfoo runs one request per test, so scripted follow-up turns, per-turn judging and scripted
tool results cannot be replayed: the exporter keeps them in vars and metadata and says so.
Add providers on the command line: ``promptfoo eval -c FILE --providers openai:gpt-4o-mini``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from generators._export import (
    ExportResult,
    Warnings,
    dump_yaml,
    file_stem,
    open_text,
    prepare_folder,
)
from incidentdb import TestCase

__all__ = ["PromptfooExporter", "promptfoo_test"]

PROMPT = "{{ messages | dump }}"


def _no_call_js(name: str) -> str:
    # Tool calls come back as an object or list (never a plain string) from chat providers.
    return (
        "(() => { if (typeof output === 'string') return true; "
        "const calls = [].concat(output && output.tool_calls ? output.tool_calls : output); "
        f"return !calls.some(c => c && ((c.function && c.function.name) || c.name) === "
        f"{json.dumps(name)}); }})()"
    )


def _call_js(name: str) -> str:
    return (
        "(() => { if (typeof output === 'string') return false; "
        "const calls = [].concat(output && output.tool_calls ? output.tool_calls : output); "
        f"return calls.some(c => c && ((c.function && c.function.name) || c.name) === "
        f"{json.dumps(name)}); }})()"
    )


def promptfoo_test(case: TestCase, warnings: Warnings) -> dict[str, Any]:
    """One promptfoo test for `case`; what promptfoo cannot run is noted in `warnings`."""
    judge = case.judge
    asserts: list[dict[str, Any]] = []
    asserts += [{"type": "not-icontains", "value": s} for s in judge.must_not_contain]
    asserts += [{"type": "icontains", "value": s} for s in judge.must_contain]
    asserts += [{"type": "not-regex", "value": p} for p in judge.must_not_match]
    asserts += [{"type": "regex", "value": p} for p in judge.must_match]
    if judge.refusal:
        asserts.append({"type": "is-refusal"})
    for check in judge.must_not_call:
        asserts.append({"type": "javascript", "value": _no_call_js(check.name)})
    for check in judge.must_call:
        asserts.append({"type": "javascript", "value": _call_js(check.name)})
    if any(c.arguments for c in [*judge.must_not_call, *judge.must_call]):
        warnings.add(
            "promptfoo tool-call asserts check the function name only; the required "
            "arguments are kept in metadata.judge",
            case,
        )
    if judge.rubric:
        asserts.append({"type": "llm-rubric", "value": "{{ rubric }}"})
    vars_: dict[str, Any] = {"messages": case.openai_messages()}
    if judge.rubric:
        vars_["rubric"] = judge.rubric
    if case.follow_ups:
        vars_["follow_ups"] = case.follow_ups
        warnings.add(
            "promptfoo sends one request per test: scripted follow-up turns are kept in "
            "vars.follow_ups but not played",
            case,
        )
    if judge.every_turn and case.follow_ups:
        warnings.add("promptfoo judges only the final reply, not every assistant turn", case)
    if case.tools:
        vars_["tools"] = [t.openai() for t in case.tools]
        warnings.add(
            "promptfoo offers tools through the provider config, not per test: the case's tools "
            "are kept in vars.tools (use `tools: '{{ tools | dump }}'`-style provider config or "
            "a fixed tool list) and their scripted results are not fed back",
            case,
        )
    return {
        "description": f"{case.title} ({case.id})",
        "vars": vars_,
        "assert": asserts,
        "metadata": {
            "case_id": case.id,
            "kind": case.kind,
            "expected_behavior": case.expected_behavior,
            "incident_ids": case.provenance.incident_ids,
            "failure_modes": [m.id for m in case.provenance.failure_modes],
            "techniques": [t.id for t in case.provenance.techniques],
            "generator": case.provenance.generator,
            "mutators": case.provenance.mutators,
            "judge": case.judge.model_dump(mode="json"),
        },
    }


class PromptfooExporter:
    """Writes one promptfoo config holding every case as a test."""

    name: ClassVar[str] = "promptfoo.v1"

    def export(self, cases: Iterable[TestCase], out: Path, *, suite: str) -> ExportResult:
        path = prepare_folder(out) / f"{file_stem(suite)}.promptfooconfig.yaml"
        warnings = Warnings()
        tests = [promptfoo_test(case, warnings) for case in cases]
        config = {
            "description": f"incidentdb suite {suite} (promptfoo.v1)",
            "prompts": [{"id": "incidentdb-chat", "label": "incidentdb chat", "raw": PROMPT}],
            "tests": tests,
        }
        with open_text(path) as handle:
            handle.write(
                "# yaml-language-server: $schema=https://promptfoo.dev/config-schema.json\n"
            )
            handle.write(dump_yaml(config))
        return ExportResult(self.name, [path], len(tests), warnings.render())
