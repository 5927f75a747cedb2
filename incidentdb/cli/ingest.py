"""`incidentdb ingest`: bring data in through a registered ingester."""

from __future__ import annotations

import click

from incidentdb import IngestResult
from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import echo_json, format_option, limit_option, output_rows


@click.group()
def ingest() -> None:
    """Import incidents and reports from a source."""


def summary_rows(result: IngestResult) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for kind, counts in result.counts.items():
        row: dict[str, object] = {"kind": kind}
        for key in ("added", "updated", "unchanged"):
            row[key] = counts.get(key, 0)
        row["other"] = ", ".join(
            f"{k} {v}" for k, v in counts.items() if k not in ("added", "updated", "unchanged")
        )
        rows.append(row)
    return rows


def report_result(app: AppContext, result: IngestResult, fmt: str) -> None:
    if fmt == "json":
        echo_json(
            {
                "run_id": result.run_id,
                "ingester": result.ingester,
                "source": result.source,
                "outcome": result.outcome,
                "counts": result.counts,
                "notes": result.notes,
            }
        )
        return
    output_rows(summary_rows(result), fmt, ["kind", "added", "updated", "unchanged", "other"])
    if result.outcome == "unchanged":
        app.info(f"run {result.run_id}: nothing changed; the store already holds this snapshot")
    else:
        app.info(f"run {result.run_id}: {result.outcome} in {result.seconds:.1f}s")
    for note in result.notes:
        app.info(f"note: {note}")


@ingest.command("aiid")
@click.argument("source")
@click.option(
    "--allow-older",
    is_flag=True,
    help="Import even if a newer snapshot was imported before (its records get replaced).",
)
@format_option
@click.option("-q", "--quiet", is_flag=True, help="No progress or messages on stderr.")
@pass_app
def aiid(app: AppContext, source: str, allow_older: bool, fmt: str, quiet: bool) -> None:
    """Import an AI Incident Database snapshot (ingester aiid.v1).

    SOURCE is a backup-YYYYMMDDHHMMSS.tar.bz2 file, an extracted mongodump_full_snapshot/
    folder, or an https:// URL of a snapshot. Re-importing is safe: unchanged records are not
    written, and a failed import leaves the store as it was.
    """
    app.quiet = app.quiet or quiet
    result = app.store().ingest("aiid.v1", source, progress=app.progress(), allow_older=allow_older)
    report_result(app, result, fmt)


@ingest.command("runs")
@format_option
@limit_option
@pass_app
def runs(app: AppContext, fmt: str, limit: int | None) -> None:
    """List past ingest runs, newest first."""
    rows = app.store().ingest_runs(limit)
    for row in rows:
        counts = row.pop("counts") or {}
        row["added"] = sum(c.get("added", 0) for k, c in counts.items() if k != "notes")
        row["updated"] = sum(c.get("updated", 0) for k, c in counts.items() if k != "notes")
    output_rows(
        rows,
        fmt,
        [
            "id",
            "ingester",
            "source",
            "started_at",
            "finished_at",
            "outcome",
            "added",
            "updated",
            "error",
        ],
    )


@ingest.command("avid")
@click.argument("source")
@click.option(
    "--lenient",
    is_flag=True,
    help="Repair known drift (SEP names matched by code, empty classof, metrics in other "
    "shapes) instead of refusing those documents; each repair is noted.",
)
@format_option
@click.option("-q", "--quiet", is_flag=True, help="No progress or messages on stderr.")
@pass_app
def avid(app: AppContext, source: str, lenient: bool, fmt: str, quiet: bool) -> None:
    """Import AVID reports and vulnerabilities (ingester avid.v1).

    SOURCE is one AVID JSON file, a garak *.avid.jsonl, or a folder of them (searched
    recursively). Every document is checked first: if any is invalid, nothing is imported and
    each file and field at fault is named. Re-importing is safe.
    """
    app.quiet = app.quiet or quiet
    result = app.store().ingest("avid.v1", source, progress=app.progress(), lenient=lenient)
    report_result(app, result, fmt)
