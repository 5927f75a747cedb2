"""Real AIID report texts for evaluation, read from the shared data folder (never shipped).

``aiid_data/derived/real_report_texts.jsonl`` holds one real report a line: machine-translated
reports, submissions with their full text, reports captured in AIID's test fixtures, the
similarity-service examples and a few unlabelled news candidates. Where AIID links a report to an
incident, ``incident_ids_2026`` (or a submission's ``submission_incident_id``) says which.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incidentdb._errors import EvaluationDataError

__all__ = [
    "REAL_REPORTS",
    "RealReport",
    "find_real_reports",
    "read_real_reports",
    "unique_reports",
]

REAL_REPORTS = Path("aiid_data/derived/real_report_texts.jsonl")


@dataclass(frozen=True)
class RealReport:
    """One real report.

    Attributes:
        id: stable within the file: ``<kind>:<line number>``.
        kind: translation, submission, aiid_fixture_report, nlp_example or candidate.
        incident_id: the AIID incident it is linked to, when it is linked to exactly one.
        labelled: the source says it is an incident report (candidates are not labelled).
    """

    id: str
    kind: str
    title: str
    text: str
    url: str | None
    date: dt.date | None
    incident_id: int | None
    labelled: bool


def find_real_reports(data: Path) -> Path:
    """The JSON-lines file of real reports, given it or the shared folder that holds it.

    Raises:
        EvaluationDataError: neither ``data`` nor ``data/aiid_data/derived/…`` is that file.
    """
    for candidate in (data, data / REAL_REPORTS, data / "shared" / REAL_REPORTS):
        if candidate.is_file():
            return candidate
    raise EvaluationDataError(f"no real report texts at {data} (looked for {REAL_REPORTS} there)")


def read_real_reports(data: Path) -> list[RealReport]:
    """Every report of the file, in file order; the file or the shared folder may be given."""
    path = find_real_reports(data)
    reports = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                reports.append(_report(row, number))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise EvaluationDataError(f"{path}, line {number}: {exc!r}") from exc
    return reports


def _report(row: dict[str, Any], number: int) -> RealReport:
    kind = str(row["kind"])
    ids = row.get("incident_ids_2026") or []
    incident: int | None = int(ids[0]) if len(ids) == 1 else None
    if incident is None and kind == "submission":
        proposed = str(row.get("submission_incident_id") or "").strip()
        # "0" is how a submission says "no incident yet".
        if proposed.isdigit() and int(proposed) > 0:
            incident = int(proposed)
    if incident is None and row.get("expected_incident_id") is not None:
        incident = int(row["expected_incident_id"])
    text = row.get("plain_text") or row.get("text") or ""
    return RealReport(
        id=f"{kind}:{number}",
        kind=kind,
        title=str(row.get("title") or ""),
        text=str(text),
        url=row.get("url") or None,
        date=_date(row.get("date_published")),
        incident_id=incident,
        labelled=kind != "candidate",
    )


def _date(value: object) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def unique_reports(reports: Iterable[RealReport]) -> list[RealReport]:
    """The reports with text, each distinct ``(title, text)`` once, first occurrence kept.

    The file holds the same translated report twice where two snapshots both carried it; counted
    twice, a copy would be an easy hit for the filter and an easy pair for the grouping.
    """
    seen: set[tuple[str, str]] = set()
    out = []
    for report in reports:
        key = (report.title.strip(), report.text.strip())
        if key == ("", "") or key in seen:
            continue
        seen.add(key)
        out.append(report)
    return out
