"""An async client for one OpenAI-compatible `/v1/chat/completions` endpoint, with retries.

Rate limits (429), server errors (5xx), timeouts and dropped connections are retried, waiting
as long as a `Retry-After` header says or else with exponential backoff, and every retry is
counted by cause so the run can report it. A 401, 403 or 404 means the URL, key or model is
wrong for every case alike: it raises :class:`~incidentdb.ReplayError` and stops the run; any
other 4xx fails only its own case.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from incidentdb import ReplayError

__all__ = ["ChatClient", "Completion", "RequestFailed", "chat_completions_url"]

# Whatever a server asks for, a single wait is capped: a run should not stall for an hour.
MAX_RETRY_AFTER = 120.0
_FATAL = {401: "unauthorised", 403: "forbidden", 404: "not found"}


def chat_completions_url(endpoint: str) -> str:
    """The chat-completions URL of `endpoint`: a base (`http://host:8000`, `…/v1`) or the full
    URL."""
    url = endpoint.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


@dataclass
class Completion:
    """One answered request.

    Attributes:
        message: the assistant message (`choices[0].message`).
        attempts: requests made, retries included.
        retries: retried requests by cause (rate_limited, server_error, timeout, connect).
        seconds: wall time of the successful attempt.
        usage: the response's `usage` object, when it has one.
    """

    message: dict[str, Any]
    attempts: int
    retries: Counter[str]
    seconds: float
    usage: dict[str, Any] | None = None


@dataclass
class RequestFailed(Exception):
    """A request that failed for good (retries exhausted, or a 4xx that no retry will fix)."""

    reason: str
    attempts: int
    retries: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        return self.reason


class ChatClient:
    """Sends chat-completion requests to one endpoint.

    Args:
        endpoint: the endpoint's base or full chat-completions URL.
        api_key: sent as a bearer token when given.
        timeout: seconds for one request (connect, write and read each).
        max_retries: retries after the first attempt.
        backoff: the first retry's wait in seconds; doubles on each further retry.
        max_backoff: the longest wait between retries (a `Retry-After` is capped apart).
        concurrency: connections kept open (one per concurrent case).
        transport: an httpx transport (tests of request logic use `httpx.MockTransport`).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        concurrency: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = chat_completions_url(endpoint)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def complete(self, payload: dict[str, Any]) -> Completion:
        """POST `payload` and return the assistant message, retrying what can be retried.

        Raises:
            RequestFailed: retries exhausted, a 4xx other than 401/403/404, or a malformed reply.
            ReplayError: 401, 403 or 404: the endpoint, key or model is wrong for every case.
        """
        retries: Counter[str] = Counter()
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            wait: float | None = None
            try:
                response = await self._client.post(self.url, json=payload)
            except httpx.TimeoutException:
                cause, detail = "timeout", "timed out"
            except httpx.TransportError as exc:
                cause, detail = "connect", f"connection failed: {exc!r}"
            else:
                seconds = time.perf_counter() - started
                status = response.status_code
                if status == 200:
                    return self._parse(response, attempt, retries, seconds)
                if status in _FATAL:
                    raise ReplayError(
                        f"{self.url} answered {status} ({_FATAL[status]}): {_excerpt(response)}",
                        hint="Check --endpoint, --model and the API key (--api-key-env).",
                    )
                if status == 429:
                    cause, detail = "rate_limited", "rate limited (429)"
                    wait = _retry_after(response.headers.get("retry-after"))
                elif status >= 500:
                    cause, detail = "server_error", f"server error {status}: {_excerpt(response)}"
                    # An overloaded server may say when to come back (503 + Retry-After).
                    wait = _retry_after(response.headers.get("retry-after"))
                else:
                    raise RequestFailed(
                        f"{self.url} answered {status}: {_excerpt(response)}", attempt, retries
                    )
            if attempt > self.max_retries:
                raise RequestFailed(f"{detail}; gave up after {attempt} attempts", attempt, retries)
            retries[cause] += 1
            if wait is None:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            await asyncio.sleep(wait)

    def _parse(
        self, response: httpx.Response, attempt: int, retries: Counter[str], seconds: float
    ) -> Completion:
        try:
            body = response.json()
            message = body["choices"][0]["message"]
            if not isinstance(message, dict):
                raise TypeError("message is not an object")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise RequestFailed(
                f"malformed chat completion ({exc!r}): {_excerpt(response)}", attempt, retries
            ) from None
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
        return Completion(message, attempt, retries, seconds, usage)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200] + ("…" if len(text) > 200 else "")
