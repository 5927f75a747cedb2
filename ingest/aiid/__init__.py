"""AIID snapshot ingester, registered as `aiid.v1`."""

from ingest.aiid._ingester import AiidIngester

__all__ = ["AiidIngester"]
