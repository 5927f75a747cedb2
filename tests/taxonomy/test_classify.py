"""Classifying incidents in the store and human labels, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from incidentdb import NotFoundError, Store
from incidentdb._errors import LabelError
from incidentdb._labels import LABEL_NAMESPACE, effective_labels
from incidentdb._models import Classification, Incident, table_of
from taxonomy import (
    FailureModeClassifier,
    classify,
    import_labels,
    label_incident,
    read_label_file,
)

_class = table_of(Classification)
_incidents = table_of(Incident)


def _rows(store: Store) -> list[tuple]:
    with store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(
                    _incidents.c.incident_id,
                    _class.c.attribute,
                    _class.c.value,
                    _class.c.source_kind,
                    _class.c.model_name,
                    _class.c.model_version,
                    _class.c.author,
                    _class.c.confidence,
                )
                .join(_incidents, _incidents.c.id == _class.c.incident_pk)
                .where(_class.c.namespace == LABEL_NAMESPACE)
                .order_by(_class.c.id)
            )
        ]


def _effective(store: Store, incident_id: int) -> list[tuple[str, str]]:
    labels = effective_labels()
    with store.engine.connect() as conn:
        return sorted(
            (value, kind)
            for value, kind in conn.execute(
                select(labels.c.value, labels.c.source_kind)
                .join(_incidents, _incidents.c.id == labels.c.incident_pk)
                .where(_incidents.c.incident_id == incident_id)
            )
        )


def test_classify_writes_the_label_contract_and_is_idempotent(
    store: Store, small_classifier: FailureModeClassifier
) -> None:
    first = classify(store, small_classifier)
    assert (first.selected, first.classified, first.skipped) == (18, 18, 0)
    rows = _rows(store)
    assert first.rows == len(rows)
    # Every incident has mode and technique rows of this classifier, a NULL value for none.
    for incident_id in range(101, 119):
        mine = [r for r in rows if r[0] == incident_id]
        assert {r[1] for r in mine} == {"mode", "technique"}
        assert all(r[3:6] == ("model", "test.small", small_classifier.version_) for r in mine)
        for attribute in ("mode", "technique"):
            values = [r[2] for r in mine if r[1] == attribute]
            assert values == [None] or None not in values
    deepfake = [r for r in rows if r[0] == 101 and r[1] == "mode"]
    assert [r[2] for r in deepfake] == ["misuse"]
    assert 0.5 <= deepfake[0][7] <= 1.0
    # Same version again: nothing written.
    again = classify(store, small_classifier)
    assert (again.classified, again.skipped, again.rows) == (0, 18, 0)
    assert _rows(store) == rows


def test_evidence_is_stored_with_each_tag(
    store: Store, small_classifier: FailureModeClassifier
) -> None:
    classify(store, small_classifier, incident_ids=[105])
    with store.engine.connect() as conn:
        evidence = dict(
            conn.execute(
                select(_class.c.value, _class.c.evidence).where(
                    _class.c.namespace == LABEL_NAMESPACE, _class.c.value.is_not(None)
                )
            ).all()
        )
    assert [e["text"] for e in evidence["adversarial"]["rules"]] == [
        "Jailbroken",
        "Role-Play Prompt",
        "jailbroke",
        "role-play prompt",
        "bypassed its",
        "safety filters",
    ]
    assert evidence["adversarial.jailbreak.role_play"] == {
        "rules": [
            {
                "text": "Role-Play Prompt",
                "start": 24,
                "end": 40,
                "rule": "adversarial.jailbreak.role_play",
            },
            {
                "text": "role-play prompt",
                "start": 77,
                "end": 93,
                "rule": "adversarial.jailbreak.role_play",
            },
        ]
    }


def test_a_new_version_adds_its_tags_beside_the_old(
    store: Store,
    small_classifier: FailureModeClassifier,
    texts_and_labels: tuple[list, list],
) -> None:
    classify(store, small_classifier, incident_ids=[101, 115])
    texts, labels = texts_and_labels
    # v2 learned (wrongly) that the deepfake incident is also multi-turn.
    labels = [sorted({*row, "multi_turn"}) if i == 0 else row for i, row in enumerate(labels)]
    v2 = FailureModeClassifier(name="test.small", calibration_folds=2, C=8.0).fit(texts, labels)
    assert v2.version_ != small_classifier.version_
    result = classify(store, v2, incident_ids=[101, 115])
    assert (result.classified, result.skipped) == (2, 0)
    versions = {r[5] for r in _rows(store)}
    assert versions == {small_classifier.version_, v2.version_}
    # Queries believe the newest run only.
    newest = sorted(
        r[2] for r in _rows(store) if r[0] == 101 and r[5] == v2.version_ and r[1] == "mode"
    )
    assert [v for v, _ in _effective(store, 101)] == newest


def test_select_by_ids_since_and_unknown_ids(
    store: Store, small_classifier: FailureModeClassifier
) -> None:
    assert classify(store, small_classifier, since=dt.date(2025, 3, 1)).selected == 4
    assert classify(store, small_classifier, incident_ids=[101, 102]).classified == 2
    with pytest.raises(NotFoundError, match="no incident 999"):
        classify(store, small_classifier, incident_ids=[101, 999])


def test_human_labels_win_and_are_recorded_with_author(
    store: Store, small_classifier: FailureModeClassifier
) -> None:
    classify(store, small_classifier, incident_ids=[101])
    assert _effective(store, 101) == [("misuse", "model")]
    result = label_incident(store, 101, add=["agentic"], remove=["misuse"], author="ana")
    assert result == {"recorded": 2, "unchanged": 0, "incidents": 1}
    assert _effective(store, 101) == [("agentic", "human")]
    human = [r for r in _rows(store) if r[3] == "human"]
    assert sorted((r[2], r[6], r[7]) for r in human) == [
        ("agentic", "ana", 1.0),
        ("misuse", "ana", 0.0),
    ]
    # The same decision again writes nothing; a reversal does.
    assert label_incident(store, 101, add=["agentic"], author="ana")["recorded"] == 0
    assert label_incident(store, 101, add=["misuse"], author="bo")["recorded"] == 1
    assert _effective(store, 101) == [("agentic", "human"), ("misuse", "human")]
    # Techniques are labels too.
    label_incident(store, 105, add=["adversarial.jailbreak.role_play"], author="ana")
    assert ("technique", "adversarial.jailbreak.role_play", "human") in [
        (r[1], r[2], r[3]) for r in _rows(store)
    ]


def test_label_errors(store: Store) -> None:
    with pytest.raises(LabelError, match="unknown failure mode or technique 'agentik'"):
        label_incident(store, 101, add=["agentik"])
    with pytest.raises(LabelError, match="misuse both added and removed"):
        label_incident(store, 101, add=["misuse"], remove=["misuse"])
    with pytest.raises(NotFoundError, match="no incident 5000"):
        label_incident(store, 5000, add=["misuse"])
    assert _rows(store) == []


def test_import_labels_decides_all_five_modes_and_is_idempotent(
    store: Store, labels_file: Path
) -> None:
    result = import_labels(store, labels_file, author="panel")
    assert result == {"lines": 18, "recorded": 90, "unchanged": 0, "incidents": 18}
    assert _effective(store, 106) == [("adversarial", "human"), ("agentic", "human")]
    assert _effective(store, 115) == []
    with store.engine.connect() as conn:
        removals = conn.execute(
            select(func.count()).where(_class.c.source_kind == "human", _class.c.confidence == 0.0)
        ).scalar_one()
    assert removals == 90 - 15  # 15 listed labels over the 18 incidents
    again = import_labels(store, labels_file, author="panel")
    assert again == {"lines": 18, "recorded": 0, "unchanged": 90, "incidents": 0}


def test_import_is_all_or_nothing(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"incident_id": 101, "labels": ["misuse"]}\n{"incident_id": 4242, "labels": []}\n'
    )
    with pytest.raises(NotFoundError, match="no incident 4242"):
        import_labels(store, path)
    assert _rows(store) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"incident_id": 1, "labels": []}\n{"incident_id": 2, "labels": ["agentik"]}\n',
            "labels.jsonl, line 2: unknown label agentik",
        ),
        ('{"incident_id": 1, "labels": []}\n\nnot json\n', "labels.jsonl, line 3: not JSON"),
        ('{"incident_id": "1", "labels": []}\n', "line 1: incident_id must be an integer"),
        ('{"incident_id": 1, "labels": "misuse"}\n', "line 1: labels must be a list of strings"),
        ("[1, 2]\n", "line 1: expected a JSON object"),
        (
            '{"incident_id": 1, "labels": []}\n{"incident_id": 1, "labels": []}\n',
            "line 2: incident 1 is listed again (first on line 1)",
        ),
    ],
)
def test_malformed_label_files_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(content)
    with pytest.raises(LabelError) as info:
        read_label_file(path)
    assert message in str(info.value)


def test_read_label_file_ignores_extra_keys(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"incident_id": 3, "labels": ["misuse", "agentic"], "why": "x"}))
    [row] = read_label_file(path)
    assert (row.incident_id, row.labels, row.line) == (3, ("agentic", "misuse"), 1)
