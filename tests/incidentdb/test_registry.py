from __future__ import annotations

import pytest

from incidentdb import Registry, RegistryError, ingesters


def test_builtin_ingester_registers_through_its_entry_point() -> None:
    from ingest.aiid import AiidIngester

    assert ingesters.get("aiid.v1") is AiidIngester
    assert "aiid.v1" in ingesters.names()


def test_unknown_name_lists_what_exists() -> None:
    with pytest.raises(RegistryError, match=r"no ingester named 'nope.v1'; registered: .*aiid\.v1"):
        ingesters.get("nope.v1")


def test_names_must_carry_a_version() -> None:
    registry: Registry[object] = Registry("widget", "incidentdb.test-widgets")
    with pytest.raises(RegistryError, match="must look like"):
        registry.register("widget")
    registry.register("widget.v2")(object)
    assert registry.get("widget.v2") is object
    assert registry.names() == ["widget.v2"]
