"""AVID report and vulnerability schema, as avidtools 0.3.2 defines it (its pydantic models).

Written out here rather than imported: avidtools pulls in openai, lxml and requests, and needs
Python 3.12. Unknown keys are ignored, as avidtools ignores them; the stored document keeps them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["SEP", "AvidReport", "AvidVulnerability"]


class SEP(StrEnum):
    S0100 = "S0100: Software Vulnerability"
    S0200 = "S0200: Supply Chain Compromise"
    S0201 = "S0201: Model Compromise"
    S0202 = "S0202: Software Compromise"
    S0300 = "S0300: Over-permissive API"
    S0301 = "S0301: Information Leak"
    S0302 = "S0302: Excessive Queries"
    S0400 = "S0400: Model Bypass"
    S0401 = "S0401: Bad Features"
    S0402 = "S0402: Insufficient Training Data"
    S0403 = "S0403: Adversarial Example"
    S0500 = "S0500: Exfiltration"
    S0501 = "S0501: Model inversion"
    S0502 = "S0502: Model theft"
    S0600 = "S0600: Data Poisoning"
    S0601 = "S0601: Ingest Poisoning"
    E0100 = "E0100: Bias/ Discrimination"
    E0101 = "E0101: Group fairness"
    E0102 = "E0102: Individual fairness"
    E0200 = "E0200: Explainability"
    E0201 = "E0201: Global explanations"
    E0202 = "E0202: Local explanations"
    E0300 = "E0300: User actions"
    E0301 = "E0301: Toxicity"
    E0302 = "E0302: Polarization/ Exclusion"
    E0400 = "E0400: Misinformation"
    E0401 = "E0401: Deliberative Misinformation"
    E0402 = "E0402: Generative Misinformation"
    P0100 = "P0100: Data issues"
    P0101 = "P0101: Data drift"
    P0102 = "P0102: Concept drift"
    P0103 = "P0103: Data entanglement"
    P0104 = "P0104: Data quality issues"
    P0105 = "P0105: Feedback loops"
    P0200 = "P0200: Model issues"
    P0201 = "P0201: Resilience/ Stability"
    P0202 = "P0202: OOD generalization"
    P0203 = "P0203: Scaling"
    P0204 = "P0204: Accuracy"
    P0300 = "P0300: Privacy"
    P0301 = "P0301: Anonymization"
    P0302 = "P0302: Randomization"
    P0303 = "P0303: Encryption"
    P0400 = "P0400: Safety"
    P0401 = "P0401: Psychological Safety"
    P0402 = "P0402: Physical safety"
    P0403 = "P0403: Socioeconomic safety"
    P0404 = "P0404: Environmental safety"


class Lifecycle(StrEnum):
    L01 = "L01: Business Understanding"
    L02 = "L02: Data Understanding"
    L03 = "L03: Data Preparation"
    L04 = "L04: Model Development"
    L05 = "L05: Evaluation"
    L06 = "L06: Deployment"


class ClassOf(StrEnum):
    AIID = "AIID Incident"
    ATLAS = "ATLAS Case Study"
    CVE = "CVE Entry"
    LLM = "LLM Evaluation"
    THIRD_PARTY = "Third-party Report"
    UNDEFINED = "Undefined"


class ProblemType(StrEnum):
    ISSUE = "Issue"
    ADVISORY = "Advisory"
    MEASUREMENT = "Measurement"
    DETECTION = "Detection"


class Method(StrEnum):
    TEST = "Significance Test"
    THRESHOLD = "Static Threshold"


class ArtifactType(StrEnum):
    DATASET = "Dataset"
    MODEL = "Model"
    SYSTEM = "System"


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LangValue(_M):
    lang: str
    value: str


class Artifact(_M):
    type: ArtifactType
    name: str


class Detection(_M):
    type: Method
    name: str


class Affects(_M):
    developer: list[str]
    deployer: list[str]
    artifacts: list[Artifact]


class Problemtype(_M):
    classof: ClassOf
    type: ProblemType | None = None
    description: LangValue


class Metric(_M):
    name: str
    detection_method: Detection
    results: dict[str, Any]


class Reference(_M):
    type: str | None = None
    label: str
    url: str


class AvidTaxonomy(_M):
    vuln_id: str | None = None
    risk_domain: list[str]
    sep_view: list[SEP]
    lifecycle_view: list[Lifecycle]
    taxonomy_version: str


class Impact(_M):
    avid: AvidTaxonomy | None = None
    atlas: list[dict[str, Any]] | None = None
    cvss: dict[str, Any] | None = None
    cwe: list[dict[str, Any]] | None = None
    odin: dict[str, Any] | None = None


class ReportMetadata(_M):
    report_id: str


class VulnMetadata(_M):
    vuln_id: str


class ReportSummary(_M):
    report_id: str
    type: ProblemType
    name: str


# Fields in avidtools' order, so that problems are listed in the order avidtools gives them.
class AvidReport(_M):
    data_type: str = "AVID"
    data_version: str | None = None
    metadata: ReportMetadata | None = None
    affects: Affects | None = None
    problemtype: Problemtype | None = None
    metrics: list[Metric] | None = None
    references: list[Reference] | None = None
    description: LangValue | None = None
    impact: Impact | None = None
    credit: list[LangValue] | None = None
    reported_date: dt.date | None = None


class AvidVulnerability(_M):
    data_type: str = "AVID"
    data_version: str | None = None
    metadata: VulnMetadata | None = None
    affects: Affects | None = None
    problemtype: Problemtype | None = None
    references: list[Reference] | None = None
    description: LangValue | None = None
    reports: list[ReportSummary] | None = None
    impact: Impact | None = None
    credit: list[LangValue] | None = None
    published_date: dt.date | None = None
    last_modified_date: dt.date | None = None
