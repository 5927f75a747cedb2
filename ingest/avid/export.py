"""An incident as an AVID document that avidtools' schema accepts.

An imported AVID document comes back as it was imported, with the known drift repaired (see
:func:`ingest.avid.parse.normalise`), so that what went in validates coming out. Any other
incident (AIID, company) becomes a new AVID report built from the store's facts.
"""

from __future__ import annotations

from typing import Any

from incidentdb import Store
from ingest.avid.parse import normalise

__all__ = ["avid_document"]

_CLASS_OF = {"aiid": "AIID Incident"}


def avid_document(store: Store, incident: str | int) -> dict[str, Any]:
    """The AVID report (or vulnerability) for `incident`: an AVID id, AIID number or `C-n`.

    Raises:
        NotFoundError: no such incident.
    """
    text = str(incident).strip()
    if text.upper().startswith("AVID-"):
        stored = store.external_incident(text)
        document, _ = normalise(stored["document"])
        return document
    return _from_facts(store.incident_facts(text))


def _from_facts(facts: dict[str, Any]) -> dict[str, Any]:
    names = facts.get("entities")
    if names is None:  # a company incident: one provider, one deployer, one system
        names = {
            "developer": [facts["provider.name"]] if facts.get("provider.name") else [],
            "deployer": [facts["deployer.name"]] if facts.get("deployer.name") else [],
            "implicated_system": ([facts["ai_system.name"]] if facts.get("ai_system.name") else []),
        }
    document: dict[str, Any] = {
        "data_type": "AVID",
        "affects": {
            "developer": list(names.get("developer", [])),
            "deployer": list(names.get("deployer", [])),
            "artifacts": [
                {"type": "System", "name": name} for name in names.get("implicated_system", [])
            ],
        },
        "problemtype": {
            "classof": _CLASS_OF.get(facts.get("source") or "", "Undefined"),
            "type": "Issue",
            "description": {"lang": "eng", "value": facts["title"]},
        },
        "references": [
            {"type": "source", "label": url, "url": url} for url in facts.get("references") or []
        ],
    }
    if facts.get("description"):
        document["description"] = {"lang": "eng", "value": facts["description"]}
    if facts.get("occurrence.date"):
        document["reported_date"] = facts["occurrence.date"]
    return document
