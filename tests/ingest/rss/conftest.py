"""The feed server fixture shared by the feed tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rss_server import FeedServer, running_server


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A fresh server per test, so per-path counters start at zero."""
    with running_server() as server:
        yield server
