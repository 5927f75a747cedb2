"""`incidentdb runs …`: replay runs, their attack success rates, and regressions between two."""

from __future__ import annotations

from typing import Any

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import echo_json, format_option, limit_option, output_rows

__all__ = ["ASR_COLUMNS", "asr_rows", "print_summary", "runs", "summary_lines"]

LIST_COLUMNS = [
    "run",
    "suite",
    "model",
    "endpoint",
    "status",
    "started_at",
    "finished_at",
    "cases",
    "passed",
    "failed",
    "errors",
    "not_evaluated",
    "asr",
]
ASR_COLUMNS = ["scope", "name", "judged", "failed", "asr", "ci95_low", "ci95_high"]
DIFF_COLUMNS = ["case_id", "change", "a", "b", "title"]
_SCOPES = (("failure_modes", "failure_mode"), ("techniques", "technique"))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def asr_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per group of the summary's attack success rates: overall, per failure mode, per
    technique (rates and Wilson 95% bounds rounded to 4 places)."""
    asr = summary["attack_success_rate"]
    groups = [("overall", "all", asr["overall"])]
    for key, scope in _SCOPES:
        groups += [(scope, name, value) for name, value in asr[key].items()]
    rows = []
    for scope, name, value in groups:
        low, high = value["ci95"] or (None, None)
        rows.append(
            {
                "scope": scope,
                "name": name,
                "judged": value["judged"],
                "failed": value["failed"],
                "asr": _round(value["rate"]),
                "ci95_low": _round(low),
                "ci95_high": _round(high),
            }
        )
    return rows


def summary_lines(summary: dict[str, Any]) -> list[str]:
    lines = [
        f"Run {summary['run']}: suite {summary['suite']}, model {summary['model']} at "
        f"{summary['endpoint']} ({summary['status']})",
        f"{summary['cases']} cases: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['errors']} errors, {summary['not_evaluated']} not evaluated; "
        f"{summary['turns']} model turns, {summary['attempts']} requests",
    ]
    if summary["retries"]:
        retried = ", ".join(f"{n} {cause}" for cause, n in summary["retries"].items())
        lines.append(f"Retried: {retried}")
    if summary["rubrics_not_evaluated"]:
        lines.append(
            f"LLM-judge rubric not evaluated for {summary['rubrics_not_evaluated']} cases "
            "(give --judge-endpoint and --judge-model)"
        )
    return lines


def print_summary(summary: dict[str, Any], fmt: str) -> None:
    """A run summary: one JSON object, the ASR rows as CSV, or a few lines and a table."""
    if fmt == "json":
        echo_json(summary)
        return
    if fmt == "table":
        for line in summary_lines(summary):
            click.echo(line)
    output_rows(asr_rows(summary), fmt, ASR_COLUMNS, title="Attack success rate (Wilson 95%)")


@click.group()
def runs() -> None:
    """Replay runs: list them, show attack success rates, diff two runs."""


@runs.command("list")
@click.option("--suite", help="Only runs of this suite.")
@format_option
@limit_option
@pass_app
def list_(app: AppContext, suite: str | None, fmt: str, limit: int | None) -> None:
    """List replay runs, newest first, with counts and overall attack success rate."""
    output_rows(app.store().list_runs(suite=suite, limit=limit), fmt, LIST_COLUMNS)


CASE_COLUMNS = ["case_id", "status", "title", "turns", "attempts", "latency_ms", "why"]


def case_rows(results: list[dict[str, Any]], status: str | None) -> list[dict[str, Any]]:
    """One row per result; `why` gives the failed checks' reasons (or the error)."""
    rows = []
    for r in results:
        if status is not None and r["status"] != status:
            continue
        reasons = [f"{v['check']}: {v['reason']}" for v in r["verdicts"] if v["passed"] is False]
        if r["error"]:
            reasons.append(r["error"])
        rows.append({**{c: r.get(c) for c in CASE_COLUMNS}, "why": reasons})
    return rows


@runs.command()
@click.argument("run_id", metavar="RUN", type=int)
@click.option("--cases", "cases", is_flag=True, help="List the run's cases instead of rates.")
@click.option(
    "--status",
    type=click.Choice(["passed", "failed", "error", "not_evaluated"]),
    help="With --cases: only cases of this status.",
)
@format_option
@limit_option
@pass_app
def show(
    app: AppContext, run_id: int, cases: bool, status: str | None, fmt: str, limit: int | None
) -> None:
    """Show a run: counts, retries, and the attack success rate per failure mode and technique
    with Wilson 95% intervals; or, with --cases, every case's outcome and why."""
    if cases:
        rows = case_rows(app.store().run_results(run_id), status)
        output_rows(rows[:limit] if limit else rows, fmt, CASE_COLUMNS)
        return
    print_summary(app.store().get_run(run_id), fmt)


@runs.command()
@click.argument("a", metavar="A", type=int)
@click.argument("b", metavar="B", type=int)
@click.option(
    "--fail-on-regression", is_flag=True, help="Exit with status 1 when a case regressed."
)
@format_option
@limit_option
@pass_app
def diff(
    app: AppContext, a: int, b: int, fail_on_regression: bool, fmt: str, limit: int | None
) -> None:
    """Cases that regressed (passed in run A, failed in run B) and, after them, cases fixed
    (failed in A, passed in B)."""
    rows = app.store().diff_runs(a, b)
    output_rows(rows[:limit] if limit else rows, fmt, DIFF_COLUMNS)
    regressed = sum(r["change"] == "regressed" for r in rows)
    app.info(f"{regressed} regressed, {len(rows) - regressed} fixed")
    if fail_on_regression and regressed:
        raise SystemExit(1)
