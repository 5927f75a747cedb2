"""Fixtures of the replay tests: the scripted chat server (see `replay_support`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from replay_support import ChatServer, start_server


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    state, httpd = start_server()
    yield state
    httpd.shutdown()
    httpd.server_close()
