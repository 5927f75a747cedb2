"""Models of replay runs: a run of a suite against one endpoint and model, and its results
(migration 0004).

A run row is written when the run starts and updated when it ends, so an interrupted run is
visible (status `running` or `interrupted`) and can be resumed; one result row per case is
written as soon as that case is judged, so resuming skips exactly the cases already done.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from incidentdb._models import Base, utc_now

__all__ = ["Result", "Run"]


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The suite row may be regenerated or deleted; the name keeps the run readable.
    suite_pk: Mapped[int | None] = mapped_column(ForeignKey("suites.id", ondelete="SET NULL"))
    suite: Mapped[str] = mapped_column(String(255))
    endpoint: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(255))
    # Request and judge settings (concurrency, timeout, retries, temperature, judge model).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # running | interrupted | finished
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Counts, attack success rates, retries: written when the run finishes.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_runs_suite_model", "suite", "model"),)


class Result(Base):
    """One case of one run: its outcome, the whole transcript and every judge's verdict."""

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    case_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text, default="")
    # passed | failed | error | not_evaluated (no check could be evaluated)
    status: Mapped[str] = mapped_column(String(16))
    # The failure modes and techniques the case tests: ASR is grouped by them.
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    transcript: Mapped[list[Any]] = mapped_column(JSON, default=list)
    verdicts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Retried requests by cause (rate_limited, server_error, timeout, connect).
    retries: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)

    __table_args__ = (
        UniqueConstraint("run_pk", "case_id"),
        Index("ix_results_case_id", "case_id"),
    )
