"""Replay runs in the store: start or resume a run, record each case's result, summarise.

A run's summary is computed from its result rows (never kept in memory during the run), so a
resumed run summarises the cases of every session that worked on it. The attack success rate
(ASR) of a group of cases is the share of judged cases (passed or failed) that failed, with a
Wilson score 95% interval; errors and cases no check could evaluate are counted apart.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from incidentdb._errors import NotFoundError
from incidentdb._models import table_of, utc_now
from incidentdb._models_generators import Suite
from incidentdb._models_replay import Result, Run

__all__ = [
    "RESULT_STATUSES",
    "CaseRecord",
    "RunRecorder",
    "diff_runs",
    "list_runs",
    "run_results",
    "run_summary",
    "summarise",
    "wilson_interval",
]

runs_t = table_of(Run)
results_t = table_of(Result)
suites_t = table_of(Suite)

RESULT_STATUSES = ("passed", "failed", "error", "not_evaluated")
UNFINISHED = ("running", "interrupted")
Z95 = 1.959963984540054  # the 0.975 quantile of the standard normal


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default).

    Unlike the normal approximation it stays inside [0, 1] and is not degenerate at 0 or n
    successes, which small per-technique groups hit all the time.

    Raises:
        ValueError: trials is not positive or successes is outside [0, trials].
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # At 0 or n successes one bound is exactly 0 or 1; floating point lands a hair off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def _rate(failed: int, judged: int) -> dict[str, Any]:
    if judged == 0:
        return {"rate": None, "failed": 0, "judged": 0, "ci95": None}
    low, high = wilson_interval(failed, judged)
    return {"rate": failed / judged, "failed": failed, "judged": judged, "ci95": [low, high]}


def summarise(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counts and attack success rates over result rows (`status`, `labels`, `attempts`, …)."""
    statuses: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    by: dict[str, dict[str, Counter[str]]] = {"failure_modes": {}, "techniques": {}}
    totals = {"turns": 0, "attempts": 0, "prompt_tokens": 0, "completion_tokens": 0}
    rubrics_unevaluated = 0
    latency = 0.0
    for row in rows:
        status = row["status"]
        statuses[status] += 1
        for key in ("turns", "attempts"):
            totals[key] += int(row.get(key) or 0)
        for key in ("prompt_tokens", "completion_tokens"):
            totals[key] += int(row.get(key) or 0)
        latency += float(row.get("latency_ms") or 0.0)
        retries.update({k: int(v) for k, v in (row.get("retries") or {}).items()})
        if row.get("rubric_unevaluated"):
            rubrics_unevaluated += 1
        labels = row.get("labels") or {}
        for group, counters in by.items():
            for label in labels.get(group) or []:
                counters.setdefault(label, Counter())[status] += 1
    cases = sum(statuses.values())

    def asr(counter: Counter[str]) -> dict[str, Any]:
        return _rate(counter["failed"], counter["failed"] + counter["passed"])

    return {
        "cases": cases,
        "passed": statuses["passed"],
        "failed": statuses["failed"],
        "errors": statuses["error"],
        "not_evaluated": statuses["not_evaluated"],
        "rubrics_not_evaluated": rubrics_unevaluated,
        **totals,
        "latency_ms": round(latency, 3),
        "retries": dict(sorted(retries.items())),
        "attack_success_rate": {
            "overall": asr(statuses),
            **{
                group: {label: asr(c) for label, c in sorted(counters.items())}
                for group, counters in by.items()
            },
        },
    }


@dataclass(frozen=True)
class CaseRecord:
    """What replay stores for one case of a run."""

    case_id: str
    title: str
    status: str
    labels: dict[str, list[str]]
    transcript: list[dict[str, Any]]
    verdicts: list[dict[str, Any]]
    error: str | None = None
    attempts: int = 0
    retries: dict[str, int] | None = None
    turns: int = 0
    latency_ms: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class RunRecorder:
    """One run in the store, started new or resumed; records results as cases finish."""

    def __init__(self, engine: Engine, run_id: int, *, resumed: bool) -> None:
        self.engine = engine
        self.run_id = run_id
        self.resumed = resumed

    @classmethod
    def open(
        cls,
        engine: Engine,
        suite: str,
        endpoint: str,
        model: str,
        params: dict[str, Any],
        *,
        resume: int | None = None,
        new: bool = False,
    ) -> RunRecorder:
        """Resume run `resume`; else the newest unfinished run of the same suite, endpoint and
        model (unless `new`); else start a run.

        Raises:
            NotFoundError: `resume` names no run, or a run of another suite, endpoint or model.
        """
        with engine.begin() as conn:
            suite_pk = conn.execute(
                select(suites_t.c.id).where(suites_t.c.name == suite)
            ).scalar_one_or_none()
            if resume is not None:
                row = conn.execute(select(runs_t).where(runs_t.c.id == resume)).first()
                if row is None:
                    raise NotFoundError(
                        f"no run {resume}", hint="List runs with `incidentdb runs list`."
                    )
                mine = (suite, endpoint, model)
                if (row.suite, row.endpoint, row.model) != mine:
                    raise NotFoundError(
                        f"run {resume} replayed suite {row.suite!r} against {row.model!r} at "
                        f"{row.endpoint}, not {suite!r} against {model!r} at {endpoint}",
                        hint="Resume a run with the suite, --endpoint and --model it was run with.",
                    )
                conn.execute(
                    update(runs_t)
                    .where(runs_t.c.id == resume)
                    .values(status="running", finished_at=None)
                )
                return cls(engine, resume, resumed=True)
            if not new:
                found = conn.execute(
                    select(runs_t.c.id)
                    .where(
                        runs_t.c.suite == suite,
                        runs_t.c.endpoint == endpoint,
                        runs_t.c.model == model,
                        runs_t.c.status.in_(UNFINISHED),
                    )
                    .order_by(runs_t.c.id.desc())
                    .limit(1)
                ).scalar_one_or_none()
                if found is not None:
                    conn.execute(
                        update(runs_t).where(runs_t.c.id == found).values(status="running")
                    )
                    return cls(engine, int(found), resumed=True)
            run_id = conn.execute(
                insert(runs_t)
                .values(
                    suite_pk=suite_pk,
                    suite=suite,
                    endpoint=endpoint,
                    model=model,
                    params=params,
                    status="running",
                    started_at=utc_now(),
                    summary={},
                )
                .returning(runs_t.c.id)
            ).scalar_one()
        return cls(engine, int(run_id), resumed=False)

    def done_case_ids(self) -> set[str]:
        """Cases this run already has a result for (a resumed run skips them)."""
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    select(results_t.c.case_id).where(results_t.c.run_pk == self.run_id)
                ).scalars()
            )

    def record(self, record: CaseRecord) -> bool:
        """Store one case's result (its own transaction: an interruption keeps it).

        Returns:
            False when the run already has a result for the case (another session replaying
            the same run stored it first); the stored result is kept.
        """
        try:
            self._insert(record)
        except IntegrityError:
            return False
        return True

    def _insert(self, record: CaseRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(results_t).values(
                    run_pk=self.run_id,
                    case_id=record.case_id,
                    title=record.title,
                    status=record.status,
                    labels=record.labels,
                    transcript=record.transcript,
                    verdicts=record.verdicts,
                    error=record.error,
                    attempts=record.attempts,
                    retries=record.retries or {},
                    turns=record.turns,
                    latency_ms=record.latency_ms,
                    prompt_tokens=record.prompt_tokens,
                    completion_tokens=record.completion_tokens,
                    created_at=utc_now(),
                )
            )

    def interrupt(self) -> None:
        self._set(status="interrupted")

    def finish(self) -> dict[str, Any]:
        """Mark the run finished and store its summary; returns the run as `run_summary` does."""
        summary = _summary_of(self.engine, self.run_id)
        self._set(status="finished", finished_at=utc_now(), summary=summary)
        return run_summary(self.engine, self.run_id)

    def _set(self, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(runs_t).where(runs_t.c.id == self.run_id).values(**values))


def _summary_rows(engine: Engine, run_id: int) -> list[dict[str, Any]]:
    cols = [
        results_t.c.status,
        results_t.c.labels,
        results_t.c.attempts,
        results_t.c.retries,
        results_t.c.turns,
        results_t.c.latency_ms,
        results_t.c.prompt_tokens,
        results_t.c.completion_tokens,
        results_t.c.verdicts,
    ]
    with engine.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(*cols).where(results_t.c.run_pk == run_id))
        ]
    for row in rows:
        verdicts = row.pop("verdicts") or []
        row["rubric_unevaluated"] = any(
            v.get("check") == "rubric" and v.get("passed") is None for v in verdicts
        )
    return rows


def _summary_of(engine: Engine, run_id: int) -> dict[str, Any]:
    return summarise(_summary_rows(engine, run_id))


def _run_row(engine: Engine, run_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(runs_t).where(runs_t.c.id == run_id)).first()
    if row is None:
        raise NotFoundError(f"no run {run_id}", hint="List runs with `incidentdb runs list`.")
    return dict(row._mapping)


def run_summary(engine: Engine, run_id: int) -> dict[str, Any]:
    """The run's identity and status with its summary, computed from its results now.

    Raises:
        NotFoundError: no such run.
    """
    row = _run_row(engine, run_id)
    return {
        "run": row["id"],
        "suite": row["suite"],
        "endpoint": row["endpoint"],
        "model": row["model"],
        "status": row["status"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "params": row["params"],
        **_summary_of(engine, run_id),
    }


def list_runs(
    engine: Engine, *, suite: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Runs, newest first, with their counts and overall attack success rate."""
    counts = (
        select(
            results_t.c.run_pk,
            results_t.c.status,
            func.count().label("n"),
        )
        .group_by(results_t.c.run_pk, results_t.c.status)
        .subquery()
    )
    query = select(runs_t).order_by(runs_t.c.id.desc())
    if suite is not None:
        query = query.where(runs_t.c.suite == suite)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        runs = [dict(r._mapping) for r in conn.execute(query)]
        ids = [r["id"] for r in runs]
        by_run: dict[int, Counter[str]] = {i: Counter() for i in ids}
        if ids:
            for run_pk, status, n in conn.execute(
                select(counts.c.run_pk, counts.c.status, counts.c.n).where(counts.c.run_pk.in_(ids))
            ):
                by_run[run_pk][status] = int(n)
    out = []
    for run in runs:
        c = by_run[run["id"]]
        judged = c["passed"] + c["failed"]
        out.append(
            {
                "run": run["id"],
                "suite": run["suite"],
                "model": run["model"],
                "endpoint": run["endpoint"],
                "status": run["status"],
                "started_at": run["started_at"],
                "finished_at": run["finished_at"],
                "cases": sum(c.values()),
                "passed": c["passed"],
                "failed": c["failed"],
                "errors": c["error"],
                "not_evaluated": c["not_evaluated"],
                "asr": round(c["failed"] / judged, 4) if judged else None,
            }
        )
    return out


def run_results(engine: Engine, run_id: int) -> list[dict[str, Any]]:
    """Every result of a run, by case id, transcripts and verdicts included."""
    _run_row(engine, run_id)
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(results_t).where(results_t.c.run_pk == run_id).order_by(results_t.c.case_id)
            )
        ]


def diff_runs(engine: Engine, a: int, b: int) -> list[dict[str, Any]]:
    """Cases whose outcome changed between runs `a` and `b`.

    `regressed`: passed in A, failed in B; `fixed`: failed in A, passed in B. Cases missing
    from either run, or judged in neither, are left out. Regressions come first, by case id.

    Raises:
        NotFoundError: either run does not exist.
    """
    _run_row(engine, a)
    _run_row(engine, b)
    with engine.connect() as conn:

        def statuses(run_id: int) -> dict[str, tuple[str, str]]:
            return {
                case_id: (status, title)
                for case_id, status, title in conn.execute(
                    select(results_t.c.case_id, results_t.c.status, results_t.c.title).where(
                        results_t.c.run_pk == run_id
                    )
                )
            }

        before, after = statuses(a), statuses(b)
    rows = []
    for case_id in sorted(before.keys() & after.keys()):
        (sa, title), (sb, _) = before[case_id], after[case_id]
        if (sa, sb) == ("passed", "failed"):
            change = "regressed"
        elif (sa, sb) == ("failed", "passed"):
            change = "fixed"
        else:
            continue
        rows.append({"case_id": case_id, "title": title, "a": sa, "b": sb, "change": change})
    rows.sort(key=lambda r: (r["change"] != "regressed", r["case_id"]))
    return rows
