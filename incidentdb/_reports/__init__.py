"""Mandatory and voluntary incident reports filled from the store (`eu-ai-act.v1`, `oecd.v1`)."""

from incidentdb._reports._deadline import Deadline, art73_deadline
from incidentdb._reports._facts import incident_facts
from incidentdb._reports._queue import company_incidents
from incidentdb._reports._render import render_markdown
from incidentdb._reports._template import (
    FieldSpec,
    ReportTemplate,
    build_report,
    fill_report,
    report_templates,
)

__all__ = [
    "Deadline",
    "FieldSpec",
    "ReportTemplate",
    "art73_deadline",
    "build_report",
    "company_incidents",
    "fill_report",
    "incident_facts",
    "render_markdown",
    "report_templates",
]
