"""The Article 73 AI Act reporting deadline, from the awareness date and the harm.

Art. 73(2): not later than 15 days after the provider (or deployer) becomes aware of the
serious incident. Art. 73(3): 2 days for a widespread infringement or a serious incident under
Art. 3(49)(b) (serious and irreversible disruption of critical infrastructure). Art. 73(4): 10
days in the event of the death of a person. Each is the latest date: the report is due
immediately once a causal link is established or reasonably likely. Periods count calendar days
from the day after the awareness date (Regulation 1182/71), so the report is due by the end of
awareness date + N days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Deadline", "art73_deadline", "first_filed"]


@dataclass(frozen=True)
class Deadline:
    """When an Article 73 report is due, and why."""

    days: int
    article: str
    reason: str
    awareness_date: dt.date
    due: dt.date
    # True when the 2-day rule was applied to a critical-infrastructure disruption whose
    # irreversibility is not known yet: the shorter deadline until counsel says otherwise.
    assumed: bool = False

    def status(self, as_of: dt.date, filed: dt.date | None = None) -> str:
        """Days left or overdue on `as_of`; once a first report was `filed`, whether on time."""
        if filed is not None:
            return f"first report filed {filed}" + (" (late)" if filed > self.due else "")
        left = (self.due - as_of).days
        if left < 0:
            return f"overdue by {-left} day{'s' if left != -1 else ''}"
        if left == 0:
            return "due today"
        return f"{left} day{'s' if left != 1 else ''} left"


def art73_deadline(
    awareness_date: dt.date | None,
    harm_categories: Iterable[str],
    irreversible: bool | None = None,
) -> Deadline | None:
    """The shortest Article 73 deadline that applies.

    None without an awareness date, or when no harm category triggers Art. 73 (a disruption of
    critical infrastructure known to be reversible, and nothing else).

    Args:
        awareness_date: when the provider or deployer became aware of the incident.
        harm_categories: values of :class:`incidentdb.HarmCategory`.
        irreversible: whether a critical-infrastructure disruption is serious and
            irreversible; None (unknown) applies the 2-day rule and marks it assumed.
    """
    categories = set(harm_categories)
    if awareness_date is None:
        return None
    candidates: list[tuple[int, str, str, bool]] = []
    if "widespread_infringement" in categories:
        candidates.append((2, "Art. 73(3)", "widespread infringement", False))
    if "critical_infrastructure_disruption" in categories:
        if irreversible is None:
            candidates.append(
                (
                    2,
                    "Art. 73(3)",
                    "disruption of critical infrastructure, assumed serious and irreversible",
                    True,
                )
            )
        elif irreversible:
            candidates.append(
                (
                    2,
                    "Art. 73(3)",
                    "serious and irreversible disruption of critical infrastructure",
                    False,
                )
            )
        # A disruption that is not serious and irreversible is no serious incident under
        # Art. 3(49)(b): it sets no deadline of its own.
    if "death" in categories:
        candidates.append((10, "Art. 73(4)", "death of a person", False))
    others = categories - {"widespread_infringement", "critical_infrastructure_disruption", "death"}
    if others:
        candidates.append(
            (15, "Art. 73(2)", "serious incident: " + ", ".join(sorted(others)), False)
        )
    if not candidates:
        return None
    days, article, reason, assumed = min(candidates, key=lambda c: (c[0], c[1], c[2]))
    return Deadline(
        days=days,
        article=article,
        reason=reason,
        awareness_date=awareness_date,
        due=awareness_date + dt.timedelta(days=days),
        assumed=assumed,
    )


def first_filed(history: Iterable[dict[str, Any]]) -> dt.date | None:
    """The date of the first initial (or combined) report in a report history, if any."""
    dates = [
        dt.date.fromisoformat(str(r["date"]))
        for r in history
        if r.get("type") in ("initial", "combined") and r.get("date")
    ]
    return min(dates) if dates else None
