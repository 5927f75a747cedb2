"""A filled report as Markdown: one table per section, then what is missing and what counsel
must confirm. Deterministic, so golden files can compare it byte for byte."""

from __future__ import annotations

from typing import Any

__all__ = ["render_markdown"]

JUDGEMENT = "⚖"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        if "description" in value and "status" in value:  # a corrective action
            when = f", {value['date']}" if value.get("date") else ""
            return f"{value['description']} ({value['status']}{when})"
        if "type" in value and "date" in value:  # an earlier report
            extra = [v for v in (value.get("reference"), value.get("authority")) if v]
            tail = f" ({', '.join(extra)})" if extra else ""
            return f"{value['type']} of {value['date']}{tail}"
        return ", ".join(f"{k}: {_text(v)}" for k, v in sorted(value.items()))
    return str(value)


def _cell(value: Any) -> str:
    return " ".join(_text(value).split()).replace("|", "\\|")


def render_markdown(report: dict[str, Any]) -> str:
    """The report `build_report` returned, as Markdown."""
    out = [f"# {report['title']}", ""]
    out.append(f"- Template: `{report['template']}` ({report['based_on']})")
    out.append(f"- Incident: {report['incident']} (source: {report['source']})")
    if report.get("report_type"):
        out.append(f"- Report type: {report['report_type']}")
    out.append(f"- Prepared on: {report['as_of']}")
    deadline = report.get("deadline")
    if deadline is not None:
        out += ["", "## Deadline", ""]
        if deadline["computed"]:
            assumed = (
                f" {JUDGEMENT} The 2-day rule is applied until counsel confirms whether the "
                "disruption is serious and irreversible."
                if deadline["assumed"]
                else ""
            )
            out.append(
                f"Due **{deadline['due']}** ({deadline['status']} on {report['as_of']}): "
                f"{deadline['days']} days after awareness on {deadline['awareness_date']}, "
                f"{deadline['article']}, {deadline['reason']}. Report immediately once a causal "
                f"link is established or reasonably likely; this is the latest date.{assumed}"
            )
        elif deadline["lacking"]:
            out.append(
                "Cannot be computed: missing " + ", ".join(f"`{k}`" for k in deadline["lacking"])
            )
        else:
            out.append(f"None: {deadline['note']}. {JUDGEMENT} Confirm with counsel.")
    for section in report["sections"]:
        out += ["", f"## {section['title']}", "", "| Field | Value |", "|---|---|"]
        for field in section["fields"]:
            label = _cell(field["label"])
            if field["judgement"]:
                label += f" {JUDGEMENT}"
            if field["missing"]:
                value = "**MISSING (required)**" if field["required"] else "—"
            else:
                value = _cell(field["value"])
            out.append(f"| {label} | {value} |")
    out += ["", f"## Missing required fields ({len(report['missing'])})", ""]
    out += [f"- `{m['field']}`: {m['label']} ({m['section']})" for m in report["missing"]]
    if not report["missing"]:
        out.append("None.")
    if report["missing_optional"]:
        out += ["", f"## Missing optional fields ({len(report['missing_optional'])})", ""]
        out += [f"- `{m['field']}`: {m['label']}" for m in report["missing_optional"]]
    if report["judgements"]:
        out += ["", f"## {JUDGEMENT} To confirm with counsel before filing", ""]
        for j in report["judgements"]:
            where = f"`{j['field']}`: " if j["field"] else ""
            out.append(f"- {where}{j['question']}")
    return "\n".join(out) + "\n"
