"""Build the BSON part of the sample snapshot: `aiidprod/entities.bson` and `aiidprod/taxa.bson`.

The CSV files in `mongodump_full_snapshot/` are the hand-written source of the sample; this script
adds the two mongodump collections an importer needs beside them (entity names and taxonomy
definitions), their `*.metadata.json` and `prelude.json`, laid out like an extracted AIID
`backup-*.tar.bz2`. It also checks the CSVs against them: every entity slug used in
`incidents.csv` must be defined here, and every classification value must be a permitted value.

Output is deterministic (ObjectIds come from a counter, not the clock), so re-running it gives
identical bytes. Usage:

    python data/sample/build_bson.py            # (re)write the files
    python data/sample/build_bson.py --check    # fail if the files on disk are stale
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import bson
from bson import ObjectId

SNAPSHOT = Path(__file__).resolve().parent / "mongodump_full_snapshot"

# A fixed creation time for every ObjectId (2026-02-15T09:30:00Z) and a fixed "machine" part;
# the last three bytes are a counter, one range per collection.
_OID_TIME = 1771147800
_OID_MACHINE = "5a3e1e0003"

# --------------------------------------------------------------------------- entities
# entity_id (slug) -> display name. All organisations and products are fictional.
ENTITIES: list[tuple[str, str]] = [
    ("acme-air", "Acme Air"),
    ("acme-air-passengers", "Acme Air passengers"),
    ("ai-agent-users", "AI agent users"),
    ("brightloop-labs", "Brightloop Labs"),
    ("caresignal-analytics", "CareSignal Analytics"),
    ("chatbot-users", "Chatbot users"),
    ("chirpline", "Chirpline"),
    ("chirpline-users", "Chirpline users"),
    ("copperleaf-software", "Copperleaf Software"),
    ("cyclists", "Cyclists"),
    ("dealerchat", "DealerChat"),
    ("dialect-speakers", "Dialect speakers"),
    ("drivers", "Drivers"),
    ("gitnest", "GitNest"),
    ("halden-energy", "Halden Energy"),
    ("helix-labs", "Helix Labs"),
    ("kestrel-logistics", "Kestrel Logistics"),
    ("kindred-ai", "Kindred AI"),
    ("lakeside-auto-group", "Lakeside Auto Group"),
    ("lumenledger", "LumenLedger"),
    ("marlow-health-network", "Marlow Health Network"),
    ("meridian-engineering", "Meridian Engineering"),
    ("nova-motors", "Nova Motors"),
    ("parlance-ai", "Parlance AI"),
    ("portwise-border-systems", "Portwise Border Systems"),
    ("querya", "Querya"),
    ("ridepath-autonomy", "Ridepath Autonomy"),
    ("rivermouth-police-department", "Rivermouth Police Department"),
    ("rural-patients", "Rural patients"),
    ("shipyard", "Shipyard"),
    ("tabula-ai", "Tabula AI"),
    ("targeted-organizations", "Targeted organizations"),
    ("tessel-telecom", "Tessel Telecom"),
    ("travellers-with-darker-skin", "Travellers with darker skin"),
    ("unknown", "Unknown"),
    ("visionary-metrics", "Visionary Metrics"),
    ("voters", "Voters"),
    ("voxforge", "VoxForge"),
    ("women-job-applicants", "Women job applicants"),
    ("wrongfully-arrested-people", "Wrongfully arrested people"),
]

# --------------------------------------------------------------------------- MIT taxonomy
MIT_DOMAINS = [
    "1. Discrimination and Toxicity",
    "2. Privacy & Security",
    "3. Misinformation",
    "4. Malicious Actors & Misuse",
    "5. Human-Computer Interaction",
    "6. Socioeconomic & Environmental Harms",
    "7. AI system safety, failures, and limitations",
]
MIT_SUBDOMAINS = [
    "1.1. Unfair discrimination and misrepresentation",
    "1.2. Exposure to toxic content",
    "1.3. Unequal performance across groups",
    "2.1. Compromise of privacy by obtaining, leaking or correctly inferring sensitive information",
    "2.2. AI system security vulnerabilities and attacks",
    "3.1. False or misleading information",
    "3.2. Pollution of information ecosystem and loss of consensus reality",
    "4.1. Disinformation, surveillance, and influence at scale",
    "4.2. Cyberattacks, weapon development or use, and mass harm",
    "4.3. Fraud, scams, and targeted manipulation",
    "5.1. Overreliance and unsafe use",
    "5.2. Loss of human agency and autonomy",
    "6.1. Power centralization and unfair distribution of benefits",
    "6.2. Increased inequality and decline in employment quality",
    "6.3. Economic and cultural devaluation of human effort",
    "6.4. Competitive dynamics",
    "6.5. Governance failure",
    "6.6. Environmental harm",
    "7.1. AI pursuing its own goals in conflict with human goals or values",
    "7.2. AI possessing dangerous capabilities",
    "7.3. Lack of capability or robustness",
    "7.4. Lack of transparency or interpretability",
    "7.5. AI welfare and rights",
]


def _field(
    short_name: str,
    description: str,
    display_type: str,
    mongo_type: str,
    permitted_values: list[str],
    weight: int,
    instant_facet: bool,
    *,
    field_number: str | None = None,
    long_description: str | None = None,
    complete_from: dict[str, list[str]] | None = None,
    subfields: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One `field_list` entry, keys in the order AIID's taxa documents use."""
    field: dict[str, Any] = {}
    if field_number is not None:
        field["field_number"] = field_number
    field |= {
        "short_name": short_name,
        "long_name": short_name,
        "short_description": description,
        "long_description": long_description or description,
        "display_type": display_type,
        "mongo_type": mongo_type,
    }
    if complete_from is not None:
        field["complete_from"] = complete_from
    field |= {
        "default": "",
        "placeholder": "",
        "permitted_values": permitted_values,
        "weight": weight,
        "instant_facet": instant_facet,
        "required": False,
        "public": True,
    }
    if subfields is not None:
        field["subfields"] = subfields
    return field


MIT_DESCRIPTION = (
    "The MIT taxonomy sorts each incident by the kind of risk it shows and by how that risk "
    "arose. Its domain part places the incident in one of seven broad risk areas and one of "
    "their subdomains; its causal part records who or what caused the harm (the AI system, "
    "people, or neither clearly), whether it happened before or after deployment, and whether "
    "the outcome was intended. In AIID these labels are produced automatically by a language "
    "model and then published by editors.\n\n"
    "This definition was written for the incidentdb sample snapshot and follows the shape of "
    "the AIID taxonomy; see the MIT AI Risk Repository for the authoritative text."
)

MIT_FIELDS = [
    _field(
        "Risk Domain",
        "The broad area of AI risk the incident belongs to, one of seven domains.",
        "enum",
        "string",
        MIT_DOMAINS,
        5,
        True,
    ),
    _field(
        "Risk Subdomain",
        "The narrower risk category within the domain; its number starts with the number of "
        "the domain it belongs to.",
        "enum",
        "string",
        MIT_SUBDOMAINS,
        2,
        True,
    ),
    _field(
        "Entity",
        "Who or what caused the risk: the AI system itself, people using or building it, or "
        "something else or unclear.",
        "enum",
        "string",
        ["Human", "AI", "Other"],
        5,
        True,
    ),
    _field(
        "Timing",
        "Whether the risk arose before the system was deployed (for example in training or "
        "research) or after, while it was in use.",
        "enum",
        "string",
        ["Pre-deployment", "Post-deployment", "Other"],
        5,
        True,
    ),
    _field(
        "Intent",
        "Whether the harmful outcome was an expected result of someone's goal or an "
        "unintended side effect.",
        "enum",
        "string",
        ["Intentional", "Unintentional", "Other"],
        5,
        True,
    ),
]

# --------------------------------------------------------------------------- GMF taxonomy
GMF_GOALS = [
    "Autonomous Driving",
    "Chatbot",
    "Code Generation",
    "Content Recommendation",
    "Content Search",
    "Deepfake Video Generation",
    "Face Recognition",
    "Hate Speech Detection",
    "Medical Diagnosis Support",
    "Question Answering",
    "Application Evaluation",
    "Voice Generation",
    "Writing Assistant",
]
GMF_TECHNOLOGIES = [
    "Classification",
    "Convolutional Neural Network",
    "Diffusion Model",
    "Face Detection",
    "Generative Adversarial Network",
    "Language Modeling",
    "Multimodal Learning",
    "Reinforcement Learning",
    "Transformer",
    "Visual Object Detection",
]
GMF_FAILURES = [
    "Adversarial Data",
    "Black Swan Event",
    "Context Misidentification",
    "Covariate Shift",
    "Dataset Imbalance",
    "Distributional Bias",
    "Generalization Failure",
    "Inadequate Fault Tolerance",
    "Inadequate Output Filtering",
    "Inadequate Sequential Memory",
    "Inadequate Verification",
    "Lack of Adversarial Robustness",
    "Lack of Capability Control",
    "Lack of Interruptability",
    "Lack of Safety Protocols",
    "Limited Dataset",
    "Misaligned Objective",
    "Misinformation Generation Hazard",
    "Outdated Input",
    "Prompt Injection",
    "Unsafe Exposure or Access",
]

GMF_DESCRIPTION = (
    "## Goals, Methods and Failures (GMF)\n\n"
    "GMF looks at an incident from three technical angles: what the AI system was meant to do "
    "(its **goal**), how it was built (its **methods and technologies**) and which technical "
    "causes most likely led to the harm (its **failures**).\n\n"
    "Each angle has two confidence levels. *Known* labels are clearly supported by the reports; "
    "*potential* labels are plausible given what the reports say. Every label can be backed by "
    "snippets quoted from the reports and by a free-text discussion of the annotator's "
    "reasoning.\n\n"
    "This definition was written for the incidentdb sample snapshot and follows the shape of the "
    "AIID taxonomy; the permitted values are a small subset of the GMF vocabularies."
)

_GMF_GROUPS = [
    ("1", "AI Goal", GMF_GOALS, "a goal or task", "the system was deployed to pursue"),
    (
        "2",
        "AI Technology",
        GMF_TECHNOLOGIES,
        "a method or technology",
        "was used to build the system",
    ),
    (
        "3",
        "AI Technical Failure",
        GMF_FAILURES,
        "a technical cause of failure",
        "contributed to the harm",
    ),
]
_CONFIDENCE = [("1", "Known", "almost certainly"), ("2", "Potential", "probably")]


def _gmf_fields() -> list[dict[str, Any]]:
    fields = []
    for group_no, noun, values, what, verb in _GMF_GROUPS:
        known, potential = f"Known {noun}", f"Potential {noun}"
        for conf_no, conf, adverb in _CONFIDENCE:
            name = f"{conf} {noun}"
            number = f"{group_no}.{conf_no}"
            fields.append(
                _field(
                    name,
                    f"Names {what} that {adverb} {verb}, according to the reports.",
                    "multi",
                    "array",
                    values,
                    50,
                    True,
                    field_number=f"{number}.1",
                    complete_from={"all": [known, potential]},
                )
            )
            subfields = [
                _field(
                    "Snippet Text",
                    "A passage quoted from one of the incident's reports.",
                    "long_string",
                    "string",
                    [],
                    50,
                    False,
                ),
                _field(
                    "Related Classifications",
                    f"The {name} values that this passage supports.",
                    "multi",
                    "array",
                    values,
                    50,
                    False,
                    complete_from={"current": [name]},
                ),
                _field(
                    "Snippet Discussion",
                    "Optional notes on why the passage is relevant.",
                    "long_string",
                    "string",
                    [],
                    50,
                    False,
                ),
            ]
            fields.append(
                _field(
                    f"{name} Snippets",
                    f"Passages from the reports that support the {name} labels.",
                    "object-list",
                    "array",
                    [],
                    40,
                    False,
                    field_number=f"{number}.2",
                    subfields=subfields,
                )
            )
            fields.append(
                _field(
                    f"{name} Classification Discussion",
                    f"Free-text reasoning behind the {name} labels, if any is needed.",
                    "long_string",
                    "string",
                    [],
                    40,
                    False,
                    field_number=f"{number}.3",
                )
            )
    return fields


# --------------------------------------------------------------------------- building
def _oid(counter: int) -> ObjectId:
    return ObjectId(f"{_OID_TIME:08x}{_OID_MACHINE}{counter:06x}")


def entity_docs() -> list[dict[str, Any]]:
    return [
        {"_id": _oid(0x100 + i), "entity_id": slug, "name": name}
        for i, (slug, name) in enumerate(ENTITIES, start=1)
    ]


def taxa_docs() -> list[dict[str, Any]]:
    return [
        {
            "_id": _oid(0x200 + 1),
            "namespace": "MIT",
            "weight": 70,
            "automatedClassifications": True,
            "description": MIT_DESCRIPTION,
            "dummy_fields": [],
            "field_list": MIT_FIELDS,
        },
        {
            "_id": _oid(0x200 + 2),
            "namespace": "GMF",
            "weight": 70,
            "description": GMF_DESCRIPTION,
            "dummy_fields": [
                {"field_number": "1", "short_name": "Goals"},
                {"field_number": "2", "short_name": "Methods"},
                {"field_number": "3", "short_name": "Failures"},
            ],
            "field_list": _gmf_fields(),
        },
    ]


def _metadata(collection: str, extra_indexes: list[dict[str, Any]]) -> str:
    """A mongodump `<collection>.metadata.json` (canonical extended JSON, no newline)."""
    indexes = [
        {"v": {"$numberInt": "2"}, "key": {"_id": {"$numberInt": "1"}}, "name": "_id_"},
        *extra_indexes,
    ]
    uuid = hashlib.md5(f"incidentdb-sample:{collection}".encode()).hexdigest()
    doc = {"indexes": indexes, "uuid": uuid, "collectionName": collection, "type": "collection"}
    return json.dumps(doc, separators=(",", ":"))


def outputs() -> dict[str, bytes]:
    """Relative path -> exact bytes of every file this script owns."""
    entity_index = {
        "v": {"$numberInt": "2"},
        "key": {"entity_id": {"$numberInt": "-1"}},
        "name": "entity_id_idx",
        "unique": True,
    }
    return {
        "aiidprod/entities.bson": b"".join(bson.encode(d) for d in entity_docs()),
        "aiidprod/taxa.bson": b"".join(bson.encode(d) for d in taxa_docs()),
        "aiidprod/entities.metadata.json": _metadata("entities", [entity_index]).encode(),
        "aiidprod/taxa.metadata.json": _metadata("taxa", []).encode(),
        "aiidprod/prelude.json": b'{"ServerVersion":"7.0.30","ToolVersion":"100.14.1"}',
    }


# --------------------------------------------------------------------------- checks
_ENTITY_COLUMNS = (
    "Alleged deployer of AI system",
    "Alleged developer of AI system",
    "Alleged harmed or nearly harmed parties",
)


def _rows(name: str) -> list[dict[str, str]]:
    with (SNAPSHOT / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def check_csvs() -> list[str]:
    """Problems found when the CSVs are compared with the entities and taxa defined here."""
    problems = []
    slugs = {slug for slug, _ in ENTITIES}
    for row in _rows("incidents.csv"):
        for column in _ENTITY_COLUMNS:
            for slug in json.loads(row[column]):
                if slug not in slugs:
                    problems.append(f"incident {row['incident_id']}: unknown entity {slug!r}")
    for doc in taxa_docs():
        namespace = doc["namespace"]
        for row in _rows(f"classifications_{namespace}.csv"):
            for field in doc["field_list"]:
                value = row.get(field["short_name"], "")
                if not field["permitted_values"] or not value:
                    continue
                values = value.split(", ") if field["mongo_type"] == "array" else [value]
                for v in values:
                    if v not in field["permitted_values"]:
                        problems.append(
                            f"{namespace} incident {row['Incident ID']}: "
                            f"{field['short_name']} value {v!r} is not permitted"
                        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if any output file differs from disk",
    )
    args = parser.parse_args(argv)

    problems = check_csvs()
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if problems:
        return 1

    stale = []
    for rel, data in outputs().items():
        path = SNAPSHOT / rel
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"wrote {path.relative_to(SNAPSHOT.parent)} ({len(data)} bytes)")
    for rel in stale:
        print(f"stale: {rel} (run build_bson.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
