"""AVID (AI Vulnerability Database) ingester, registered as `avid.v1`."""

from ingest.avid._ingester import AvidIngester

__all__ = ["AvidIngester"]
