"""A seeded store for the trends and export tests, and a plain-Python model of what it holds.

`build()` writes incidents, entities in roles, failure-mode labels (classifier runs and human
decisions), imported taxonomy values, a merged duplicate and ingest runs straight into the
tables, and returns :class:`Fixture`: the same facts as Python data, from which the tests compute
the expected figures independently of the SQL under test.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import insert

from incidentdb import Store
from incidentdb._labels import refresh_current_labels
from incidentdb._models import (
    Classification,
    Duplicate,
    Entity,
    Incident,
    IncidentEntity,
    IngestRun,
    table_of,
)

T0 = dt.datetime(2026, 1, 1)
MODES = ("adversarial", "agentic", "misuse", "multi_turn", "robustness")
TECHNIQUES = ("jailbreak", "prompt_injection", "tool_misuse")
RISK_DOMAINS = ("1. Discrimination", "2. Privacy & Security", "7. AI system safety")
ENTITY_NAMES = ("Acme", "Brightloop", "Helix Labs", "Parlance AI", "Ridepath", "Users")
SNAPSHOT = dt.datetime(2026, 2, 22)


@dataclass
class FixtureIncident:
    pk: int
    incident_id: int | None
    source: str
    date: dt.date | None
    title: str
    roles: dict[str, list[str]] = field(default_factory=dict)
    # attribute -> list of (created minute, model version, values); [] values = "found none".
    model_runs: dict[str, list[tuple[int, str, list[str]]]] = field(default_factory=dict)
    # attribute -> list of (created minute, value, confidence)
    human: dict[str, list[tuple[int, str, float]]] = field(default_factory=dict)
    risk_domains: list[str] = field(default_factory=list)
    merged_away: bool = False

    def labels(self, attribute: str) -> list[str]:
        """Effective labels, computed in Python: newest human decision, else newest model run."""
        decided: dict[str, tuple[int, float]] = {}
        for minute, value, confidence in self.human.get(attribute, []):
            if value not in decided or minute >= decided[value][0]:
                decided[value] = (minute, confidence)
        chosen = {v for v, (_, c) in decided.items() if c >= 0.5}
        runs = self.model_runs.get(attribute, [])
        if runs:
            newest = max(runs, key=lambda run: run[0])
            chosen |= {v for v in newest[2] if v not in decided}
        return sorted(chosen)

    def classified(self, attribute: str) -> bool:
        return bool(self.model_runs.get(attribute)) or bool(self.human.get(attribute))


@dataclass
class Fixture:
    incidents: list[FixtureIncident]

    def visible(self, include_private: bool = False) -> list[FixtureIncident]:
        return [
            i
            for i in self.incidents
            if not i.merged_away and (include_private or i.source != "company")
        ]


def _random_date(rng: random.Random) -> dt.date | None:
    if rng.random() < 0.08:
        return None
    return dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(0, 4 * 365))


def make_fixture(n: int = 80, seed: int = 6) -> Fixture:
    rng = random.Random(seed)
    incidents = []
    for pk in range(1, n + 1):
        source = rng.choices(("aiid", "feed", "company"), weights=(6, 2, 1))[0]
        inc = FixtureIncident(
            pk=pk,
            incident_id=pk if source == "aiid" else None,
            source=source,
            date=_random_date(rng),
            title=f"Incident {pk}",
        )
        for role in ("deployer", "developer", "harmed", "implicated_system"):
            k = rng.choice((0, 1, 1, 2))
            inc.roles[role] = rng.sample(ENTITY_NAMES, k)
        for attribute, values in (("mode", MODES), ("technique", TECHNIQUES)):
            runs = []
            for run in range(rng.choice((0, 1, 1, 2))):
                runs.append((run * 10, str(run + 1), rng.sample(values, rng.choice((0, 1, 2)))))
            inc.model_runs[attribute] = runs
            inc.human[attribute] = [
                (20 + j, rng.choice(values), rng.choice((0.0, 1.0)))
                for j in range(rng.choice((0, 0, 0, 1, 2)))
            ]
        inc.risk_domains = rng.sample(RISK_DOMAINS, rng.choice((0, 1, 1, 2)))
        incidents.append(inc)
    # One AIID incident that a later snapshot marked as a duplicate: it must never count.
    merged = next(i for i in incidents if i.source == "aiid" and i.date and i.roles["deployer"])
    merged.merged_away = True
    return Fixture(incidents)


def write_fixture(store: Store, fixture: Fixture) -> None:
    """Insert `fixture` into `store`'s tables (a fresh store)."""
    entity_pk = {name: i for i, name in enumerate(ENTITY_NAMES, start=1)}
    incident_rows, role_rows, class_rows = [], [], []
    for inc in fixture.incidents:
        incident_rows.append(
            {
                "id": inc.pk,
                "incident_id": inc.incident_id,
                "source": inc.source,
                "date": inc.date,
                "title": inc.title,
                "description": f"What happened in incident {inc.pk}.",
            }
        )
        for role, names in inc.roles.items():
            for position, name in enumerate(names):
                role_rows.append(
                    {
                        "incident_pk": inc.pk,
                        "entity_pk": entity_pk[name],
                        "role": role,
                        "position": position,
                    }
                )
        for attribute in ("mode", "technique"):
            for minute, version, values in inc.model_runs[attribute]:
                for index, value in enumerate(values or [None]):
                    class_rows.append(
                        _label(inc.pk, attribute, value, "model", minute, index)
                        | {"model_name": "fm", "model_version": version, "confidence": 0.7}
                    )
            for minute, value, confidence in inc.human[attribute]:
                class_rows.append(
                    _label(inc.pk, attribute, value, "human", minute, 0)
                    | {"confidence": confidence, "author": "ed"}
                )
        for index, value in enumerate(inc.risk_domains):
            # Two annotators' documents may both carry a value: it must count once.
            for _ in range(1 + inc.pk % 2):
                class_rows.append(
                    {
                        **_label(inc.pk, "Risk Domain", value, "imported_machine", 0, index),
                        "namespace": "MIT",
                    }
                )
    with store.engine.begin() as conn:
        conn.execute(insert(table_of(Incident)), incident_rows)
        conn.execute(
            insert(table_of(Entity)),
            [
                {"id": pk, "slug": name.lower().replace(" ", "-"), "name": name}
                for name, pk in entity_pk.items()
            ],
        )
        conn.execute(insert(table_of(IncidentEntity)), role_rows)
        conn.execute(insert(table_of(Classification)), class_rows)
        refresh_current_labels(conn)
        merged = [i for i in fixture.incidents if i.merged_away]
        conn.execute(
            insert(table_of(Duplicate)),
            [
                {
                    "duplicate_incident_id": i.incident_id,
                    "true_incident_id": 1,
                    "canonical_incident_id": 1,
                }
                for i in merged
            ],
        )
        conn.execute(
            insert(table_of(IngestRun)),
            [
                {"ingester": "aiid.v1", "outcome": "succeeded", "source_date": SNAPSHOT},
                # A failed run's newer snapshot is not what the store holds.
                {"ingester": "aiid.v1", "outcome": "failed", "source_date": T0.replace(2027)},
            ],
        )


def _label(
    pk: int, attribute: str, value: str | None, kind: str, minute: int, index: int
) -> dict[str, object]:
    return {
        "incident_pk": pk,
        "namespace": "failure_modes",
        "attribute": attribute,
        "value": value,
        "value_index": index,
        "source_kind": kind,
        "model_name": None,
        "model_version": None,
        "confidence": None,
        "author": None,
        "created_at": T0 + dt.timedelta(minutes=minute),
    }


def period_of(date: dt.date, period: str) -> str:
    """A period label, computed in Python (the SQL under test computes it in the database)."""
    if period == "year":
        return f"{date.year}"
    if period == "month":
        return f"{date.year}-{date.month:02d}"
    return f"{date.year}-Q{(date.month - 1) // 3 + 1}"


def groups_of(inc: FixtureIncident, by: str) -> list[str]:
    if by == "failure_mode":
        return inc.labels("mode")
    if by == "technique":
        return inc.labels("technique")
    if by in ("deployer", "developer", "harmed"):
        return inc.roles[by]
    assert by == "taxonomy:MIT:Risk Domain"
    return inc.risk_domains


def has_dimension(inc: FixtureIncident, by: str) -> bool:
    """Whether `inc` counts as classified for `by` (a classifier or person looked at it)."""
    if by == "failure_mode":
        return inc.classified("mode")
    if by == "technique":
        return inc.classified("technique")
    return bool(groups_of(inc, by))
