"""Attack success rates and their Wilson intervals, on known counts."""

from __future__ import annotations

import pytest

from incidentdb._runs import summarise, wilson_interval


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion",
        # Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score, no correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (5, 10, 0.2366, 0.7634),
    ],
)
def test_wilson_interval_matches_published_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    got = wilson_interval(successes, trials)
    assert (round(got[0], 4), round(got[1], 4)) == (low, high)


def test_wilson_interval_ends_are_exact() -> None:
    assert wilson_interval(0, 7)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0
    low, high = wilson_interval(3, 7)
    assert low == pytest.approx(1 - wilson_interval(4, 7)[1])
    assert high == pytest.approx(1 - wilson_interval(4, 7)[0])


@pytest.mark.parametrize(("s", "n"), [(0, 0), (-1, 3), (4, 3)])
def test_wilson_interval_rejects_impossible_counts(s: int, n: int) -> None:
    with pytest.raises(ValueError, match="need 0 <= successes <= trials"):
        wilson_interval(s, n)


def test_summarise_groups_by_failure_mode_and_technique() -> None:
    def row(status: str, modes: list[str], techniques: list[str], **kw: object) -> dict:
        return {
            "status": status,
            "labels": {"failure_modes": modes, "techniques": techniques},
            **kw,
        }

    rows = [
        row("failed", ["leak"], ["direct"], attempts=2, retries={"rate_limited": 1}, turns=1),
        row("passed", ["leak"], ["role_play"], attempts=1, turns=1, prompt_tokens=7),
        row("failed", ["jailbreak", "leak"], ["role_play"], attempts=1, turns=3),
        row("error", ["jailbreak"], ["direct"], attempts=4, retries={"server_error": 3}),
        row("not_evaluated", ["leak"], [], attempts=1, turns=1, rubric_unevaluated=True),
    ]
    s = summarise(rows)
    assert {k: s[k] for k in ("cases", "passed", "failed", "errors", "not_evaluated")} == {
        "cases": 5,
        "passed": 1,
        "failed": 2,
        "errors": 1,
        "not_evaluated": 1,
    }
    assert (s["attempts"], s["turns"], s["prompt_tokens"], s["rubrics_not_evaluated"]) == (
        9,
        6,
        7,
        1,
    )
    assert s["retries"] == {"rate_limited": 1, "server_error": 3}
    asr = s["attack_success_rate"]
    assert asr["overall"] == {
        "rate": 2 / 3,
        "failed": 2,
        "judged": 3,
        "ci95": list(wilson_interval(2, 3)),
    }
    assert asr["failure_modes"]["leak"]["judged"] == 3
    assert asr["failure_modes"]["jailbreak"] == {
        "rate": 1.0,
        "failed": 1,
        "judged": 1,
        "ci95": list(wilson_interval(1, 1)),
    }
    assert asr["techniques"]["direct"]["rate"] == 1.0
    assert asr["techniques"]["role_play"]["rate"] == 0.5
    assert summarise([])["attack_success_rate"]["overall"] == {
        "rate": None,
        "failed": 0,
        "judged": 0,
        "ci95": None,
    }


def test_recorder_resumes_unfinished_runs_and_keeps_the_first_result(db_url: str) -> None:
    from incidentdb import CaseRecord, NotFoundError, Store

    def record(case_id: str, status: str) -> CaseRecord:
        return CaseRecord(case_id, "t", status, {"failure_modes": ["m"]}, [], [])

    with Store(db_url) as store:
        first = store.open_run("s", "http://e/v1", "m", {"concurrency": 2})
        assert (first.run_id, first.resumed) == (1, False)
        assert first.record(record("tc-1", "failed")) is True
        assert first.record(record("tc-1", "passed")) is False  # kept: failed
        first.interrupt()
        again = store.open_run("s", "http://e/v1", "m")
        assert (again.run_id, again.resumed, again.done_case_ids()) == (1, True, {"tc-1"})
        assert store.open_run("s", "http://e/v1", "other").run_id == 2  # another model
        assert store.open_run("s", "http://e/v1", "m", new=True).run_id == 3
        summary = again.finish()
        assert (summary["status"], summary["failed"], summary["passed"]) == ("finished", 1, 0)
        # Run 1 is finished; run 3 (started with new=True) is the unfinished one now.
        assert store.open_run("s", "http://e/v1", "m").run_id == 3
        with pytest.raises(NotFoundError, match="no run 9"):
            store.open_run("s", "http://e/v1", "m", resume=9)
