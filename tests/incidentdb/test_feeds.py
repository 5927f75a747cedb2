"""The feed registry's pure parts: the back-off schedule."""

from __future__ import annotations

import datetime as dt

import pytest

from incidentdb._feeds import DEFAULT_INTERVAL, MAX_BACKOFF, next_poll

NOW = dt.datetime(2026, 6, 1, 12, 0)


@pytest.mark.parametrize("outcome", ["ok", "not_modified", "bozo"])
def test_success_resets_the_failures(outcome: str) -> None:
    assert next_poll(outcome, 5, now=NOW) == ("ok", 0, NOW + DEFAULT_INTERVAL)


def test_failures_back_off_exponentially_up_to_a_day() -> None:
    waits = [next_poll("timeout", n, now=NOW)[2] - NOW for n in range(8)]
    assert waits[:4] == [dt.timedelta(minutes=m) for m in (30, 60, 120, 240)]
    assert waits[-1] == MAX_BACKOFF
    assert next_poll("http_error", 2, now=NOW)[:2] == ("failing", 3)


def test_retry_after_outranks_a_shorter_back_off() -> None:
    assert next_poll("rate_limited", 0, now=NOW, retry_after=7200)[2] == NOW + dt.timedelta(hours=2)
    assert next_poll("rate_limited", 0, now=NOW, retry_after=5)[2] == NOW + DEFAULT_INTERVAL


def test_gone_is_not_scheduled_again() -> None:
    assert next_poll("gone", 0, now=NOW) == ("gone", 1, None)
