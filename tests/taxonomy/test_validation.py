"""A broken copy of the taxonomy file is refused on load, with a message naming what is wrong."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from incidentdb import IncidentDBError
from incidentdb._data import bundled_data
from taxonomy import Taxonomy

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def shipped() -> Doc:
    doc: Doc = json.loads(bundled_data("taxonomy", "failure_modes.v1.json").read_text("utf-8"))
    return doc


def node(doc: Doc, node_id: str) -> Doc:
    (found,) = [n for n in doc["nodes"] if n["id"] == node_id]
    return found


def duplicate_id(doc: Doc) -> None:
    doc["nodes"].append(copy.deepcopy(node(doc, "agentic")))


def missing_parent(doc: Doc) -> None:
    technique = node(doc, "adversarial.jailbreak.many_shot")
    technique["id"] = "adversarial.long_context.many_shot"
    technique["parent"] = "adversarial.long_context"


def id_not_under_parent(doc: Doc) -> None:
    node(doc, "agentic.tool_misuse")["parent"] = "adversarial"


def unknown_mode(doc: Doc) -> None:
    node(doc, "adversarial.jailbreak.crescendo")["modes"] = ["adversarial", "multi-turn"]


def bad_atlas_code(doc: Doc) -> None:
    node(doc, "adversarial.prompt_injection.direct")["crosswalk"][0]["code"] = "AML.T51"


def bad_owasp_code(doc: Doc) -> None:
    node(doc, "adversarial.prompt_injection")["crosswalk"][1]["code"] = "LLM11"


def bad_asi_code(doc: Doc) -> None:
    node(doc, "agentic")["crosswalk"][2]["code"] = "ASI1"


def bad_avid_code(doc: Doc) -> None:
    node(doc, "adversarial")["crosswalk"][5]["code"] = "X0400"


def unknown_scheme(doc: Doc) -> None:
    node(doc, "misuse")["crosswalk"][0]["scheme"] = "cwe"


def unverified_scheme_claimed_verified(doc: Doc) -> None:
    node(doc, "agentic")["crosswalk"][2]["verified"] = True


def unknown_field(doc: Doc) -> None:
    node(doc, "misuse")["exclusion"] = ["typo for exclusions"]


CASES: list[tuple[Callable[[Doc], None], str]] = [
    (duplicate_id, "duplicate node id 'agentic'"),
    (
        missing_parent,
        "node 'adversarial.long_context.many_shot': parent 'adversarial.long_context' "
        "does not exist",
    ),
    (
        id_not_under_parent,
        "node 'agentic.tool_misuse': technique id 'agentic.tool_misuse' must be its parent's id "
        "plus one segment (parent is 'adversarial')",
    ),
    (unknown_mode, "node 'adversarial.jailbreak.crescendo': mode 'multi-turn' does not exist"),
    (
        bad_atlas_code,
        "node 'adversarial.prompt_injection.direct' crosswalk.0: atlas code 'AML.T51' is not of "
        "the form AML.T#### or AML.T####.###",
    ),
    (
        bad_owasp_code,
        "node 'adversarial.prompt_injection' crosswalk.1: owasp-llm code 'LLM11' is not of the "
        "form LLM01 ... LLM10",
    ),
    (bad_asi_code, "node 'agentic' crosswalk.2: owasp-asi code 'ASI1' is not of the form"),
    (
        bad_avid_code,
        "node 'adversarial' crosswalk.5: avid code 'X0400' is not of the form S####, P#### or "
        "E####",
    ),
    (unknown_scheme, "node 'misuse' crosswalk.0.scheme: Input should be 'atlas', 'owasp-llm'"),
    (
        unverified_scheme_claimed_verified,
        "node 'agentic': owasp-asi code 'ASI01' is marked verified but the scheme is not",
    ),
    (unknown_field, "node 'misuse' exclusion: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("breakage", "message"), CASES, ids=[c[0].__name__ for c in CASES])
def test_a_broken_copy_is_refused(
    shipped: Doc, tmp_path: Path, breakage: Callable[[Doc], None], message: str
) -> None:
    doc = copy.deepcopy(shipped)
    breakage(doc)
    path = tmp_path / "failure_modes.v1.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    with pytest.raises(IncidentDBError) as raised:
        Taxonomy.from_file(path)
    text = str(raised.value)
    assert text.startswith(f"taxonomy file {path} is invalid: ")
    assert message in text


def test_the_unbroken_copy_loads(shipped: Doc, tmp_path: Path) -> None:
    path = tmp_path / "failure_modes.v1.json"
    path.write_text(json.dumps(shipped), encoding="utf-8")
    assert len(Taxonomy.from_file(path).nodes) == len(shipped["nodes"])


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "failure_modes.v1.json"
    path.write_text('{"version": "v1",\n  "nodes": [}', encoding="utf-8")
    with pytest.raises(
        IncidentDBError, match=r"is not valid JSON: Expecting value \(line 2, column 13\)"
    ):
        Taxonomy.from_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IncidentDBError, match=r"cannot read taxonomy file .*nope\.json"):
        Taxonomy.from_file(tmp_path / "nope.json")


def test_the_shipped_technique_labels_are_ids_and_known_techniques() -> None:
    from taxonomy import load_taxonomy, read_label_file
    from taxonomy._evaluate import TECHNIQUES

    path = bundled_data("taxonomy", "technique_labels.v1.jsonl")
    rows = read_label_file(path, TECHNIQUES, kind="techniques")
    assert len(rows) == 87
    assert len({r.incident_id for r in rows}) == 87
    node_ids = {n.id for n in load_taxonomy().nodes}
    assert {t for r in rows for t in r.labels} <= node_ids
    # Ids and labels only: no AIID text is committed.
    for line in path.read_text("utf-8").splitlines():
        assert set(json.loads(line)) == {"incident_id", "labels"}
