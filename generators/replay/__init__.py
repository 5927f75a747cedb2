"""Replay: run a test suite against an OpenAI-compatible chat-completions endpoint.

>>> from incidentdb import Store
>>> from generators.replay import ReplayOptions, replay_suite
>>> options = ReplayOptions(endpoint="http://127.0.0.1:8000/v1", model="my-model")
>>> summary = replay_suite(Store(), "nightly", options)  # doctest: +SKIP
>>> summary["attack_success_rate"]["overall"]["rate"]  # doctest: +SKIP
"""

from generators.replay._client import ChatClient, Completion, RequestFailed, chat_completions_url
from generators.replay._runner import (
    ReplayInterrupted,
    ReplayOptions,
    replay_case,
    replay_suite,
)

__all__ = [
    "ChatClient",
    "Completion",
    "ReplayInterrupted",
    "ReplayOptions",
    "RequestFailed",
    "chat_completions_url",
    "replay_case",
    "replay_suite",
]
