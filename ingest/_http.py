"""Shared HTTP settings and downloads with progress."""

from __future__ import annotations

from pathlib import Path

import httpx

from incidentdb import SourceError
from incidentdb._progress import SILENT, Progress

__all__ = ["USER_AGENT", "download"]

USER_AGENT = "incidentdb/0.1 (+https://github.com/incidentdb/incidentdb)"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def download(url: str, destination: Path, *, progress: Progress = SILENT) -> Path:
    """Stream `url` into the file `destination`.

    Raises:
        SourceError: the server could not be reached or did not answer 200.
    """
    headers = {"User-Agent": USER_AGENT}
    try:
        with (
            httpx.Client(timeout=TIMEOUT, follow_redirects=True, headers=headers) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise SourceError(
                    f"{url}: the server answered {response.status_code} {response.reason_phrase}"
                )
            length = response.headers.get("Content-Length")
            progress.stage(
                f"downloading {url}", int(length) if length and length.isdigit() else None
            )
            received = 0
            with destination.open("wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)
                    received += len(chunk)
                    progress.advance(len(chunk))
            if length and length.isdigit() and received != int(length):
                raise SourceError(
                    f"{url}: download ended after {received:,} of {int(length):,} bytes",
                    hint="Try again; the connection was cut.",
                )
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: download failed: {exc}") from exc
    return destination
