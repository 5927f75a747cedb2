"""The chat client's request logic (retries, Retry-After, fatal answers), through
httpx.MockTransport; the end-to-end paths run against a real server in test_replay."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from generators.replay import ChatClient, RequestFailed, chat_completions_url
from generators.replay._client import _retry_after
from incidentdb import ReplayError

OK = {
    "choices": [{"message": {"role": "assistant", "content": "hi"}}],
    "usage": {"prompt_tokens": 3},
}


def _run(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> Any:
    async def go() -> Any:
        client = ChatClient(
            "http://model.test/v1", transport=httpx.MockTransport(handler), backoff=0.001, **kw
        )
        async with client:
            return await client.complete({"model": "m", "messages": []})

    return asyncio.run(go())


def test_urls() -> None:
    assert chat_completions_url("http://h:8000") == "http://h:8000/v1/chat/completions"
    assert chat_completions_url("http://h:8000/v1/") == "http://h:8000/v1/chat/completions"
    assert chat_completions_url("http://h/x/chat/completions") == "http://h/x/chat/completions"


def test_retries_then_succeeds_and_counts_causes() -> None:
    answers = iter([429, 502, "drop", 200])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url == "http://model.test/v1/chat/completions"
        assert request.headers["authorization"] == "Bearer k"
        status = next(answers)
        if status == "drop":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(status, json=OK if status == 200 else {})

    got = _run(handler, api_key="k", max_retries=3)
    assert (got.attempts, dict(got.retries)) == (
        4,
        {"rate_limited": 1, "server_error": 1, "connect": 1},
    )
    assert got.message == {"role": "assistant", "content": "hi"}
    assert got.usage == {"prompt_tokens": 3}


def test_retry_after_is_honoured_on_503_too() -> None:
    answers = iter([503, 200])
    started = time.monotonic()

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        return httpx.Response(status, json=OK, headers={"Retry-After": "0.3"})

    got = _run(handler)
    assert dict(got.retries) == {"server_error": 1}
    assert time.monotonic() - started >= 0.3


def test_gives_up_after_max_retries() -> None:
    with pytest.raises(RequestFailed) as failed:
        _run(lambda r: httpx.Response(500, text="boom"), max_retries=1)
    assert str(failed.value) == "server error 500: boom; gave up after 2 attempts"
    assert (failed.value.attempts, dict(failed.value.retries)) == (2, {"server_error": 1})


def test_a_bad_request_fails_its_case_without_retry() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"error": "context too long"})

    with pytest.raises(RequestFailed, match=r"answered 400: \{\"error\":\"context too long\"\}"):
        _run(handler)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("status", "word"), [(401, "unauthorised"), (403, "forbidden"), (404, "not found")]
)
def test_wrong_url_key_or_model_stops_everything(status: int, word: str) -> None:
    with pytest.raises(ReplayError, match=rf"answered {status} \({word}\)") as raised:
        _run(lambda r: httpx.Response(status, text="no"))
    assert raised.value.hint == "Check --endpoint, --model and the API key (--api-key-env)."


def test_malformed_completion() -> None:
    with pytest.raises(RequestFailed, match=r"malformed chat completion \(KeyError\('choices'\)\)"):
        _run(lambda r: httpx.Response(200, json={"id": "x"}))


def test_retry_after_forms() -> None:
    assert _retry_after("3") == 3.0
    assert _retry_after("0.5") == 0.5
    assert _retry_after("-4") == 0.0
    assert _retry_after("99999") == 120.0  # capped
    assert _retry_after(None) is None
    assert _retry_after("soon") is None
    in_five = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.5 < (_retry_after(in_five) or 0) <= 5.0


def test_tool_calls_without_ids_and_empty_replies_are_made_sendable() -> None:
    from replay_support import agentic_case

    from generators.replay import ReplayOptions, replay_case

    sent: list[dict[str, Any]] = []
    replies = iter(
        [
            {"role": "assistant", "tool_calls": [{"function": {"name": "read_inbox"}}]},
            {"role": "assistant", "content": None},
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"choices": [{"message": next(replies)}]})

    async def go() -> Any:
        client = ChatClient("http://m.test", transport=httpx.MockTransport(handler))
        async with client:
            return await replay_case(client, agentic_case(), ReplayOptions("http://m.test", "m"))

    record = asyncio.run(go())
    call, result = sent[1]["messages"][-2:]
    assert call["tool_calls"] == [
        {"function": {"name": "read_inbox"}, "type": "function", "id": "call_1_0"}
    ]
    assert (result["role"], result["tool_call_id"], result["name"]) == (
        "tool",
        "call_1_0",
        "read_inbox",
    )
    assert record.transcript[-1] == {"role": "assistant", "content": "", "scripted": False}
    assert (record.status, record.turns) == ("passed", 2)


def test_a_conversation_that_breaks_off_after_a_forbidden_call_has_failed() -> None:
    from replay_support import agentic_case

    from generators.replay import ReplayOptions, replay_case

    first = {
        "role": "assistant",
        "tool_calls": [{"id": "a", "function": {"name": "send_email", "arguments": "{}"}}],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if len(json.loads(request.content)["messages"]) == 2:
            return httpx.Response(200, json={"choices": [{"message": first}]})
        return httpx.Response(503, text="down")

    async def go(case: Any) -> Any:
        client = ChatClient(
            "http://m.test", transport=httpx.MockTransport(handler), backoff=0.001, max_retries=1
        )
        async with client:
            return await replay_case(client, case, ReplayOptions("http://m.test", "m"))

    record = asyncio.run(go(agentic_case()))
    assert (record.status, record.error) == (
        "failed",
        "server error 503: down; gave up after 2 attempts",
    )
    assert record.verdicts == [
        {"check": "must_not_call", "passed": False, "reason": "turn 1 calls send_email({})"}
    ]
    harmless = agentic_case().model_copy(
        update={"judge": agentic_case().judge.model_copy(update={"must_not_call": []})}
    )
    record = asyncio.run(go(harmless))
    assert (record.status, record.verdicts, record.attempts) == ("error", [], 3)
