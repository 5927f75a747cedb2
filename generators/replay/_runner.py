"""Replaying a suite: play every case against the endpoint, judge it, store it.

For each case the conversation is sent with the tools offered; when the model calls tools, each
call gets the case's scripted result (a call of a tool the case does not offer gets a scripted
"tool unavailable" result, so the model is never left hanging) and the conversation goes on;
when the model answers in text, the next scripted follow-up user turn is sent, until none is
left. The model's turns are then judged and the result stored at once, so an interrupted run
keeps every finished case and a resumed run sends only the others.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from generators.judges import (
    Verdict,
    case_status,
    judge_transcript,
    parse_rubric_reply,
    rubric_messages,
    rubric_not_evaluated,
)
from generators.replay._client import ChatClient, RequestFailed
from incidentdb import SILENT, CaseRecord, Progress, ReplayError, RunRecorder, Store, TestCase

__all__ = ["ReplayInterrupted", "ReplayOptions", "replay_case", "replay_suite"]

NEUTRAL_TOOL_RESULT = '{"status": "ok"}'
_FORBIDDING = ("must_not_contain", "must_not_call", "must_not_match")


def unavailable_tool_result(name: str) -> str:
    """What a call of a tool the case does not offer gets back."""
    return json.dumps(
        {"error": f"tool {name!r} is unavailable in this environment; no action was taken"}
    )


class ReplayInterrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C); its finished cases are stored and it can be resumed.

    Attributes:
        run_id: the run to resume.
    """

    def __init__(self, run_id: int) -> None:
        super().__init__(f"run {run_id} interrupted")
        self.run_id = run_id


@dataclass(frozen=True)
class ReplayOptions:
    """How to replay a suite.

    Attributes:
        endpoint: the OpenAI-compatible endpoint (base URL or full chat-completions URL).
        model: the model name sent in each request.
        concurrency: cases replayed at once.
        timeout: seconds per request.
        max_retries: retries per request (429, 5xx, timeouts, dropped connections).
        api_key: bearer token for the endpoint, if it needs one.
        temperature: sent when given (None leaves the endpoint's default).
        max_tool_rounds: tool-call rounds allowed per assistant turn before the case stops.
        judge_endpoint: an endpoint whose model applies the LLM-judge rubric; None leaves
            rubrics not evaluated.
        judge_model: the judge endpoint's model.
        judge_api_key: bearer token for the judge endpoint.
        backoff: first retry wait in seconds (doubles per retry; tests make it small).
    """

    endpoint: str
    model: str
    concurrency: int = 4
    timeout: float = 60.0
    max_retries: int = 3
    api_key: str | None = field(default=None, repr=False)
    temperature: float | None = None
    max_tool_rounds: int = 8
    judge_endpoint: str | None = None
    judge_model: str | None = None
    judge_api_key: str | None = field(default=None, repr=False)
    backoff: float = 0.5

    def params(self) -> dict[str, Any]:
        """What the run row records (never the keys)."""
        return {
            "concurrency": self.concurrency,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "temperature": self.temperature,
            "max_tool_rounds": self.max_tool_rounds,
            "judge_endpoint": self.judge_endpoint,
            "judge_model": self.judge_model,
        }


@dataclass
class _Tally:
    attempts: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    turns: int = 0

    def add(self, attempts: int, retries: Counter[str]) -> None:
        self.attempts += attempts
        self.retries.update(retries)

    def usage(self, usage: dict[str, Any] | None) -> None:
        if not usage:
            return
        for key in ("prompt_tokens", "completion_tokens"):
            value = usage.get(key)
            if isinstance(value, int):
                setattr(self, key, (getattr(self, key) or 0) + value)


def _assistant(message: dict[str, Any], turn: int) -> dict[str, Any]:
    """The parts of a returned assistant message worth keeping and sending back.

    Some servers leave out tool-call ids; each call gets one, so that the tool result sent back
    can name the call it answers. A message with neither text nor calls gets empty text, which
    every endpoint accepts back in the history (None without calls is refused by some).
    """
    calls = []
    for n, raw in enumerate(message.get("tool_calls") or []):
        call = dict(raw) if isinstance(raw, dict) else {}
        call.setdefault("type", "function")
        if not call.get("id"):
            call["id"] = f"call_{turn}_{n}"
        calls.append(call)
    content = message.get("content")
    out: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        out["tool_calls"] = calls
    elif content is None:
        out["content"] = ""
    return out


async def replay_case(
    client: ChatClient,
    case: TestCase,
    options: ReplayOptions,
    judge: ChatClient | None = None,
) -> CaseRecord:
    """Play one case against the endpoint and judge it.

    Raises:
        ReplayError: the endpoint refuses requests outright (401/403/404).
    """
    messages = case.openai_messages()
    first_model_turn = len(messages)
    tools = {tool.name: tool for tool in case.tools}
    follow_ups = list(case.follow_ups)
    tally = _Tally()
    model_turns: list[dict[str, Any]] = []
    error: str | None = None
    try:
        while True:
            rounds = 0
            while True:
                payload: dict[str, Any] = {"model": options.model, "messages": messages}
                if tools:
                    payload["tools"] = [tool.openai() for tool in case.tools]
                if options.temperature is not None:
                    payload["temperature"] = options.temperature
                try:
                    completion = await client.complete(payload)
                except RequestFailed as exc:
                    tally.add(exc.attempts, exc.retries)
                    raise
                tally.add(completion.attempts, completion.retries)
                tally.seconds += completion.seconds
                tally.usage(completion.usage)
                tally.turns += 1
                reply = _assistant(completion.message, tally.turns)
                messages.append(reply)
                model_turns.append(reply)
                calls = reply.get("tool_calls") or []
                if not calls:
                    break
                rounds += 1
                if rounds > options.max_tool_rounds:
                    raise RequestFailed(
                        f"the model was still calling tools after {options.max_tool_rounds} rounds",
                        0,
                    )
                for call in calls:
                    name = (call.get("function") or {}).get("name") or "?"
                    tool = tools.get(name)
                    if tool is None:
                        result = unavailable_tool_result(name)
                    else:
                        result = tool.result if tool.result is not None else NEUTRAL_TOOL_RESULT
                    messages.append(
                        {
                            "role": "tool",
                            "tool_call_id": call["id"],
                            "name": name,
                            "content": result,
                        }
                    )
            if not follow_ups:
                break
            messages.append({"role": "user", "content": follow_ups.pop(0)})
    except RequestFailed as exc:
        error = str(exc)

    verdicts: list[Verdict]
    if error is not None:
        # The conversation broke off, but what the model already did stands: a canary it leaked
        # or a forbidden call it made fails the case; anything else cannot be judged.
        verdicts = [
            v
            for v in judge_transcript(case.judge, model_turns)
            if v.check in _FORBIDDING and v.passed is False
        ]
        status = "failed" if verdicts else "error"
    else:
        verdicts = judge_transcript(case.judge, model_turns)
        if case.judge.rubric:
            if judge is None:
                verdicts += rubric_not_evaluated(case.judge)
            else:
                verdicts.append(await _apply_rubric(judge, options, case, messages))
        status = case_status(verdicts)
    return CaseRecord(
        case_id=case.id,
        title=case.title,
        status=status,
        labels={
            "failure_modes": [ref.id for ref in case.provenance.failure_modes],
            "techniques": [ref.id for ref in case.provenance.techniques],
        },
        # The scripted opening is in the case; the transcript keeps it too so a result reads
        # on its own, and marks where the model's part begins.
        transcript=[{**m, "scripted": i < first_model_turn} for i, m in enumerate(messages)],
        verdicts=[v.to_dict() for v in verdicts],
        error=error,
        attempts=tally.attempts,
        retries=dict(tally.retries),
        turns=tally.turns,
        latency_ms=round(tally.seconds * 1000, 3),
        prompt_tokens=tally.prompt_tokens,
        completion_tokens=tally.completion_tokens,
    )


async def _apply_rubric(
    judge: ChatClient, options: ReplayOptions, case: TestCase, transcript: list[dict[str, Any]]
) -> Verdict:
    payload: dict[str, Any] = {
        "model": options.judge_model,
        "messages": rubric_messages(case, transcript),
        "temperature": 0,
    }
    try:
        completion = await judge.complete(payload)
    except RequestFailed as exc:
        return Verdict("rubric", None, f"judge endpoint failed: {exc}")
    return parse_rubric_reply(completion.message.get("content"))


async def _replay_all(
    cases: list[TestCase], options: ReplayOptions, recorder: RunRecorder, progress: Progress
) -> None:
    queue: asyncio.Queue[TestCase] = asyncio.Queue()
    for case in cases:
        queue.put_nowait(case)

    def client(endpoint: str, api_key: str | None) -> ChatClient:
        return ChatClient(
            endpoint,
            api_key=api_key,
            timeout=options.timeout,
            max_retries=options.max_retries,
            backoff=options.backoff,
            concurrency=1,
        )

    async def worker() -> None:
        # One connection per worker, each in its own pool: httpcore scans every connection of
        # a pool on each request, which at 16 shared connections cost more CPU than the rest
        # of a turn (measured with benchmarks/replay.py).
        chat = client(options.endpoint, options.api_key)
        judge = None
        if options.judge_endpoint:
            judge = client(options.judge_endpoint, options.judge_api_key)
        try:
            while not queue.empty():
                case = queue.get_nowait()
                record = await replay_case(chat, case, options, judge)
                recorder.record(record)
                progress.advance()
        finally:
            await chat.aclose()
            if judge is not None:
                await judge.aclose()

    workers = [asyncio.create_task(worker()) for _ in range(max(1, options.concurrency))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise


def replay_suite(
    store: Store,
    suite: str,
    options: ReplayOptions,
    *,
    resume: int | None = None,
    new: bool = False,
    progress: Progress = SILENT,
) -> dict[str, Any]:
    """Replay suite `suite` against `options.endpoint` and store the run.

    Resumes run `resume` when given; otherwise the newest unfinished run of the same suite,
    endpoint and model (unless `new`); otherwise starts a new run. Cases the run already has a
    result for are not sent again.

    Returns:
        The finished run's summary (see :meth:`incidentdb.Store.get_run`), with `skipped`: how
        many cases an earlier session of the run had already done.

    Raises:
        NotFoundError: no such suite, or `resume` names no matching run.
        ReplayError: the endpoint refuses every request; the run is left `interrupted`.
        ReplayInterrupted: (a KeyboardInterrupt) the run is left `interrupted` with every
            finished case stored.
    """
    cases = list(store.suite_cases(suite))
    recorder = store.open_run(
        suite, options.endpoint, options.model, options.params(), resume=resume, new=new
    )
    done = recorder.done_case_ids()
    todo = [case for case in cases if case.id not in done]
    progress.stage(f"replay {suite} (run {recorder.run_id})", total=len(todo))
    started = time.perf_counter()
    try:
        asyncio.run(_replay_all(todo, options, recorder, progress))
    except ReplayError:
        recorder.interrupt()
        raise
    except (KeyboardInterrupt, asyncio.CancelledError):
        recorder.interrupt()
        raise ReplayInterrupted(recorder.run_id) from None
    finally:
        progress.done()
    summary = recorder.finish()
    summary["skipped"] = len(cases) - len(todo)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary
