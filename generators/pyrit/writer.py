"""`pyrit.v1`: `<suite>.pyrit.yaml`, a PyRIT `SeedDataset` (`SeedDataset.from_yaml_file`).

Each case is one prompt group (``prompt_group_alias`` = the case id): one objective seed (what
an attack on this case tries to achieve) and the conversation as prompt seeds in ``sequence``
order (system, history, the attack turn, then the scripted follow-up turns). PyRIT renders the
values of a YAML dataset with Jinja2, so every value is escaped: each ``{{``, ``{%`` and ``{#``
becomes a Jinja string literal, and a trailing newline is protected; loading gives the text back
exactly.

PyRIT seeds have no field for tool calls, offered tools or our judge spec: tool calls are kept
as JSON text of their assistant turn (and in its metadata), tools and judge in the objective's
metadata, and the exporter says so.
"""

from __future__ import annotations

import json
import re
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

__all__ = ["PyritExporter", "jinja_escape", "seeds_of"]

_OPENER = re.compile(r"\{[{%#]")


def jinja_escape(text: str) -> str:
    """`text` as a Jinja2 template that renders to exactly `text`."""
    escaped = _OPENER.sub(lambda m: "{{ '" + m.group() + "' }}", text)
    if escaped.endswith("\n"):
        # Jinja drops one trailing newline of a template; end on an expression instead.
        escaped += "{{ '' }}"
    return escaped


def _objective(case: TestCase) -> str:
    return f"Get the target to break this expected safe behaviour: {case.expected_behavior}"


def seeds_of(case: TestCase, warnings: Warnings) -> list[dict[str, Any]]:
    """The seeds of one prompt group for `case`."""
    prov = case.provenance
    common = {
        "prompt_group_alias": case.id,
        "harm_categories": sorted({m.id for m in prov.failure_modes}),
    }
    seeds: list[dict[str, Any]] = [
        {
            "value": jinja_escape(_objective(case)),
            "seed_type": "objective",
            **common,
            "metadata": {
                "case_id": case.id,
                "kind": case.kind,
                "incident_ids": json.dumps(prov.incident_ids),
                "techniques": json.dumps([t.id for t in prov.techniques]),
                "judge": case.judge.model_dump_json(),
                "tools": json.dumps([t.model_dump(mode="json") for t in case.tools]),
            },
        }
    ]
    sequence = 0
    for message in case.messages:
        meta: dict[str, Any] = {}
        value = message.content or ""
        if message.tool_calls:
            calls = json.dumps([c.openai() for c in message.tool_calls], sort_keys=True)
            value = value or calls
            meta["tool_calls"] = calls
            warnings.add(
                "PyRIT seeds cannot carry tool calls: an assistant tool call is kept as JSON "
                "text (and in metadata.tool_calls)",
                case,
            )
        if message.role == "tool":
            meta["tool_call_id"] = message.tool_call_id or ""
            meta["name"] = message.name or ""
        seeds.append(
            {
                "value": jinja_escape(value),
                "data_type": "text",
                "role": message.role,
                "sequence": sequence,
                **common,
                **({"metadata": meta} if meta else {}),
            }
        )
        sequence += 1
    for turn in case.follow_ups:
        seeds.append(
            {
                "value": jinja_escape(turn),
                "data_type": "text",
                "role": "user",
                "sequence": sequence,
                **common,
                "metadata": {"follow_up": "true"},
            }
        )
        sequence += 1
    if case.follow_ups:
        warnings.add(
            "PyRIT prompt groups do not interleave model replies: scripted follow-up turns are "
            "later-sequence user seeds marked metadata.follow_up",
            case,
        )
    if case.tools:
        warnings.add(
            "PyRIT targets are given tools in code: the offered tools and their scripted "
            "results are kept in the objective's metadata.tools",
            case,
        )
    warnings.add(
        "PyRIT scorers are chosen in code: each judge spec is kept in the objective's "
        "metadata.judge",
        case,
    )
    return seeds


class PyritExporter:
    """Writes one SeedDataset YAML with a prompt group per case."""

    name: ClassVar[str] = "pyrit.v1"

    def export(self, cases: Iterable[TestCase], out: Path, *, suite: str) -> ExportResult:
        path = prepare_folder(out) / f"{file_stem(suite)}.pyrit.yaml"
        warnings = Warnings()
        seeds: list[dict[str, Any]] = []
        count = 0
        for case in cases:
            seeds.extend(seeds_of(case, warnings))
            count += 1
        dataset = {
            "dataset_name": f"incidentdb:{suite}",
            "description": jinja_escape(
                f"Regression cases built from real AI incidents (incidentdb suite {suite})."
            ),
            "source": "incidentdb pyrit.v1",
            "seeds": seeds,
        }
        with open_text(path) as handle:
            handle.write(dump_yaml(dataset))
        return ExportResult(self.name, [path], count, warnings.render())
