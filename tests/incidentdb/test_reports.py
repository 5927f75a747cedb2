"""Company incidents and the reports filled from them: deadlines, golden files, missing fields."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentdb import HarmCategory, InvalidInputError, NotFoundError, Store
from incidentdb._company import (
    Harm,
    Occurrence,
    PeopleAffected,
    load_company_incident,
    parse_company_incident,
)
from incidentdb._data import bundled_data
from incidentdb._reports import art73_deadline, build_report, render_markdown, report_templates
from incidentdb.cli import cli

HERE = Path(__file__).parent / "reports"
COMPANY = HERE / "company_incident.yaml"
AS_OF = dt.date(2026, 3, 5)
SAMPLE = str(bundled_data("sample", "mongodump_full_snapshot"))
# UPDATE_GOLDEN=1 rewrites the golden files; review the diff before committing.
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))


def _golden(name: str, actual: str) -> None:
    path = HERE / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


# -- the Art. 73 deadline ------------------------------------------------------------------------

AWARE = dt.date(2026, 3, 4)


@pytest.mark.parametrize(
    ("categories", "irreversible", "days", "article", "assumed"),
    [
        (["serious_health_harm"], None, 15, "Art. 73(2)", False),
        (["fundamental_rights_infringement"], None, 15, "Art. 73(2)", False),
        (["property_harm", "environment_harm"], None, 15, "Art. 73(2)", False),
        (["death"], None, 10, "Art. 73(4)", False),
        (["death", "serious_health_harm"], None, 10, "Art. 73(4)", False),
        (["widespread_infringement"], None, 2, "Art. 73(3)", False),
        (["death", "widespread_infringement"], None, 2, "Art. 73(3)", False),
        (["critical_infrastructure_disruption"], True, 2, "Art. 73(3)", False),
        (["critical_infrastructure_disruption"], None, 2, "Art. 73(3)", True),
        (["critical_infrastructure_disruption", "death"], False, 10, "Art. 73(4)", False),
    ],
)
def test_deadline_table(
    categories: list[str], irreversible: bool | None, days: int, article: str, assumed: bool
) -> None:
    deadline = art73_deadline(AWARE, categories, irreversible)
    assert deadline is not None
    assert (deadline.days, deadline.article, deadline.assumed) == (days, article, assumed)
    assert deadline.due == AWARE + dt.timedelta(days=days)


def test_no_deadline_without_awareness_harm_or_a_triggering_harm() -> None:
    assert art73_deadline(None, ["death"]) is None
    assert art73_deadline(AWARE, []) is None
    # A reversible disruption is no serious incident under Art. 3(49)(b).
    assert art73_deadline(AWARE, ["critical_infrastructure_disruption"], False) is None


def test_a_reversible_disruption_is_reported_as_no_deadline() -> None:
    record = load_company_incident(COMPANY).model_copy(
        update={"harm": Harm(categories=["critical_infrastructure_disruption"], irreversible=False)}
    )
    report = build_report(
        report_templates.get("eu-ai-act.v1"), _flat(record), incident="C-1", as_of=AS_OF
    )
    assert report["deadline"]["computed"] is False and report["deadline"]["lacking"] == []
    assert "\n\nNone: no harm category triggers Art. 73: a disruption" in render_markdown(report)
    judged = [j["field"] for j in report["judgements"]]
    assert "irreversible" in judged


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        (dt.date(2026, 3, 5), "14 days left"),
        (dt.date(2026, 3, 18), "1 day left"),
        (dt.date(2026, 3, 19), "due today"),
        (dt.date(2026, 3, 20), "overdue by 1 day"),
        (dt.date(2026, 3, 25), "overdue by 6 days"),
    ],
)
def test_deadline_status(as_of: dt.date, status: str) -> None:
    deadline = art73_deadline(AWARE, ["serious_health_harm"])
    assert deadline is not None and deadline.status(as_of) == status


# -- templates -----------------------------------------------------------------------------------


def test_templates_are_registered_by_versioned_name() -> None:
    assert {"eu-ai-act.v1", "oecd.v1"} <= set(report_templates.names())
    oecd = report_templates.get("oecd.v1")
    assert len(oecd.sections) == 8
    assert len(oecd.fields) == 29
    # The paper's mandatory criteria: 1, 2, 3, 4, 7, 10 and 11.
    assert [f.id for f in oecd.fields if f.mandatory] == [
        "title",
        "description",
        "ai_relation",
        "submitter",
        "supporting_materials",
        "severity",
        "harm_type",
    ]
    assert [f.label.split(".")[0] for f in oecd.fields] == [str(n) for n in range(1, 30)]
    eu = report_templates.get("eu-ai-act.v1")
    assert eu.report_types == ["initial", "follow-up", "combined", "final"]
    assert [s.id for s in eu.sections] == [
        "administrative",
        "ai_system",
        "incident",
        "analysis",
        "comments",
    ]


# -- company incidents ---------------------------------------------------------------------------


def test_company_input_errors_name_every_field() -> None:
    data = {
        "title": "x",
        "description": "y",
        "ai_system": {"versoin": "1"},
        "provider": {"name": "P", "contact_email": "not-an-address"},
        "occurrence": {"date": "2026-03-05", "countries": ["Germany"]},
        "harm": {"categories": ["death", "sadness"]},
        "awareness_date": "2026-03-01",
    }
    with pytest.raises(InvalidInputError) as caught:
        parse_company_incident(data, "incident.yaml")
    fields = [field for field, _ in caught.value.problems]
    assert fields == [
        "ai_system.name",
        "ai_system.versoin",
        "provider.contact_email",
        "occurrence.countries",
        "harm.categories[1]",
    ]
    assert str(caught.value).startswith("incident.yaml: ai_system.name: Field required;")


def test_dates_out_of_order_are_refused() -> None:
    data = {
        "title": "x",
        "description": "y",
        "ai_system": {"name": "S"},
        "provider": {"name": "P"},
        "occurrence": {"date": "2026-03-05"},
        "awareness_date": "2026-03-01",
    }
    with pytest.raises(
        InvalidInputError,
        match=r"input: awareness_date: 2026-03-01 is before occurrence.date 2026-03-05",
    ):
        parse_company_incident(data)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\ndescription: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"bad.yaml: line \d+: not valid YAML"):
        load_company_incident(bad)


def test_json_file_is_read_like_yaml(tmp_path: Path) -> None:
    record = load_company_incident(COMPANY)
    as_json = tmp_path / "incident.json"
    as_json.write_text(record.model_dump_json(), encoding="utf-8")
    assert load_company_incident(as_json) == record


def test_company_incident_is_stored_once_and_updated_by_reference(db_url: str) -> None:
    record = load_company_incident(COMPANY)
    with Store(db_url) as store:
        assert store.add_company_incident(record) == ("C-1", "added")
        assert store.add_company_incident(record) == ("C-1", "unchanged")
        changed = record.model_copy(update={"cause": "A threshold regression in 4.2.0"})
        assert store.add_company_incident(changed) == ("C-1", "updated")
        stored = store.company_incident("C-1")
        assert stored["cause"] == "A threshold regression in 4.2.0"
        assert stored["ai_system"]["eu_database_id"] == "EU-HR-000123"
        other = record.model_copy(update={"reference": None})
        assert store.add_company_incident(other) == ("C-2", "added")
        with pytest.raises(NotFoundError, match="no incident C-9"):
            store.report("eu-ai-act.v1", "C-9", as_of=AS_OF)


# -- reports: golden files -----------------------------------------------------------------------


@pytest.fixture
def company_store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    store.add_company_incident(load_company_incident(COMPANY))
    yield store
    store.close()


def test_eu_initial_report_golden(company_store: Store) -> None:
    report = company_store.report("eu-ai-act.v1", "C-1", as_of=AS_OF)
    company_store.close()
    _golden("eu_ai_act_initial.json", json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    _golden("eu_ai_act_initial.md", render_markdown(report))
    assert report["missing"] == []
    assert report["deadline"] == {
        "computed": True,
        "awareness_date": "2026-03-04",
        "days": 10,
        "article": "Art. 73(4)",
        "reason": "death of a person",
        "assumed": False,
        "due": "2026-03-14",
        "status": "9 days left",
    }
    assert [j["field"] for j in report["judgements"]] == [
        "member_states",
        "authorities_notified",
        "high_risk_category",
        "harm_categories",
        "causal_link",
        None,
        None,
    ]


def test_eu_final_report_lists_what_a_final_report_still_needs(company_store: Store) -> None:
    report = company_store.report("eu-ai-act.v1", "C-1", report_type="final", as_of=AS_OF)
    company_store.close()
    assert [m["field"] for m in report["missing"]] == ["previous_reports", "cause"]
    assert report["report_type"] == "final"


def test_oecd_report_golden(company_store: Store) -> None:
    report = company_store.report("oecd.v1", "C-1", as_of=AS_OF)
    company_store.close()
    _golden("oecd.md", render_markdown(report))
    # Criterion 7 is mandatory and the example incident cites nothing.
    assert [m["field"] for m in report["missing"]] == ["supporting_materials"]
    assert [m["field"] for m in report["missing_optional"]] == [
        "use_mode",
        "rights_affected",
        "ai_principles",
        "business_function",
        "critical_function",
        "deployment_breadth",
        "training_data",
        "usage_rights",
        "multiple_systems",
        "autonomy",
        "steps_to_reproduce",
        "additional_information",
    ]
    assert "deadline" not in report


def test_an_aiid_incident_reports_with_more_missing(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        store.ingest("aiid.v1", SAMPLE)
        eu = store.report("eu-ai-act.v1", 1, as_of=AS_OF)
        oecd = store.report("oecd.v1", 1, as_of=AS_OF)
    assert eu["source"] == "aiid"
    assert [m["field"] for m in eu["missing"]] == [
        "reporter_role",
        "provider_address",
        "contact_name",
        "contact_email",
        "member_states",
        "system_name",
        "system_version",
        "eu_database_id",
        "high_risk_category",
        "intended_purpose",
        "awareness_date",
        "harm_categories",
        "harm_description",
        "people_affected_count",
    ]
    assert eu["deadline"] == {"computed": False, "lacking": ["awareness_date", "harm.categories"]}
    assert [m["field"] for m in oecd["missing"]] == [
        "ai_relation",
        "submitter",
        "severity",
        "harm_type",
    ]
    fields = {f["id"]: f["value"] for s in oecd["sections"] for f in s["fields"]}
    assert fields["organisations"] == (
        "Brightloop Labs (developer or provider); Brightloop Labs (deployer)"
    )
    assert fields["date_occurred"] == "2016-03-23"


def test_unknown_report_type_is_refused(company_store: Store) -> None:
    with pytest.raises(Exception, match="no report type 'draft'"):
        company_store.report("eu-ai-act.v1", "C-1", report_type="draft", as_of=AS_OF)
    company_store.close()


# -- CLI -----------------------------------------------------------------------------------------


def _run(db: str, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_cli_add_then_report(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    assert _run(db, "incidents", "add", "--from", str(COMPANY)) == (0, "C-1\tadded\n", "")
    assert _run(db, "incidents", "add", "--from", str(COMPANY))[1] == "C-1\tunchanged\n"
    code, out, err = _run(
        db, "report", "eu-ai-act", "C-1", "--as-of", "2026-03-05", "--format", "json"
    )
    assert code == 0
    assert out == (HERE / "eu_ai_act_initial.json").read_text(encoding="utf-8")
    assert err == (
        "eu-ai-act.v1: 0 required field(s) missing, 7 judgement(s) to confirm with counsel\n"
    )
    target = tmp_path / "oecd.md"
    code, out, _ = _run(
        db, "-q", "report", "oecd", "C-1", "--as-of", "2026-03-05", "--out", str(target)
    )
    assert (code, out) == (0, "")
    assert target.read_text(encoding="utf-8") == (HERE / "oecd.md").read_text(encoding="utf-8")
    code, out, _ = _run(db, "incidents", "show", "C-1", "--format", "json")
    assert json.loads(out)["id"] == "C-1"
    # The text form is an input file again: edit it, add it back, and the incident updates.
    code, out, _ = _run(db, "incidents", "show", "C-1")
    assert out.startswith("# C-1\nreference: INC-2026-0042\ntitle: Triage assistant")
    edited = tmp_path / "edited.yaml"
    edited.write_text(out, encoding="utf-8")
    assert _run(db, "incidents", "add", "--from", str(edited))[1] == "C-1\tunchanged\n"
    edited.write_text(out.replace("cause: null", "cause: A threshold regression"), "utf-8")
    assert _run(db, "incidents", "add", "--from", str(edited))[1] == "C-1\tupdated\n"


def test_cli_errors_name_the_field_and_the_id(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\ndescription: y\nprovider: {name: P}\n", encoding="utf-8")
    code, _, err = _run(db, "incidents", "add", "--from", str(bad))
    assert code == 1
    assert err == (
        f"Error: {bad}: ai_system: Field required\n"
        "Hint: Fix the named fields and run the command again; nothing was written.\n"
    )
    code, _, err = _run(db, "report", "eu-ai-act", "C-3")
    assert code == 1
    assert err.startswith("Error: no incident C-3\n")
    code, _, err = _run(db, "report", "eu-ai-act", "X-3")
    assert err.startswith("Error: 'X-3' is not an incident id\n")


def test_cli_add_by_prompts(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    answers = [
        "Chatbot leaked account numbers",  # title
        "The support bot showed other customers' IBANs.",  # description
        "HelpBot",  # system
        "2.1",  # version
        "",  # EU database id
        "",  # intended purpose
        "Bankly AG",  # provider
        "",  # contact e-mail
        "",  # deployer
        "2026-02-01",  # occurrence date
        "AT, DE",  # countries
        "2026-02-03",  # awareness
        "fundamental_rights_infringement",  # harm
        "",  # harm description
        "120",  # people affected
        "",  # who
        "",  # cause
    ]
    code, out, _ = _run(db, "incidents", "add", input="\n".join(answers) + "\n")
    assert code == 0, out
    assert out.endswith("C-1\tadded\n")
    with Store(db) as store:
        stored = store.company_incident("C-1")
        report = store.report("eu-ai-act.v1", "C-1", as_of=dt.date(2026, 2, 10))
    assert stored["occurrence"]["countries"] == ["AT", "DE"]
    assert stored["people_affected"]["count"] == 120
    assert report["deadline"]["due"] == "2026-02-18"
    assert report["deadline"]["status"] == "8 days left"


def test_recorded_reports_make_the_next_one_a_follow_up(db_url: str) -> None:
    record = load_company_incident(COMPANY)
    history = [{"type": "initial", "date": "2026-03-06", "reference": "MSA-77"}]
    filed = parse_company_incident({**record.model_dump(mode="json"), "report_history": history})
    late = parse_company_incident(
        {
            **record.model_dump(mode="json"),
            "reference": "INC-2",
            "occurrence": {"date": "2026-01-30"},
            "awareness_date": "2026-02-01",
            "report_history": [{"type": "initial", "date": "2026-03-06"}],
        }
    )
    open_one = record.model_copy(update={"reference": "INC-3", "awareness_date": None})
    with Store(db_url) as store:
        store.add_company_incident(filed)
        store.add_company_incident(late)
        store.add_company_incident(open_one)
        report = store.report("eu-ai-act.v1", "C-1", as_of=AS_OF)
        rows = store.company_incidents(as_of=AS_OF)
    assert report["report_type"] == "follow-up"
    assert report["deadline"]["status"] == "first report filed 2026-03-06"
    fields = {f["id"]: f for s in report["sections"] for f in s["fields"]}
    assert fields["previous_reports"]["value"] == [{**history[0], "authority": None}]
    assert fields["corrective_actions"]["required"] is True
    assert [(r["id"], r["due"], r["status"]) for r in rows] == [
        ("C-2", dt.date(2026, 2, 11), "first report filed 2026-03-06 (late)"),
        ("C-1", dt.date(2026, 3, 14), "first report filed 2026-03-06"),
        ("C-3", None, None),
    ]


def test_cli_company_listing(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    _run(db, "incidents", "add", "--from", str(COMPANY))
    code, out, _ = _run(db, "incidents", "company", "--as-of", "2026-03-05", "--format", "csv")
    assert code == 0
    assert out == (
        "id,reference,date,title,awareness_date,harm,due,article,status,reports_filed\n"
        "C-1,INC-2026-0042,2026-03-02,Triage assistant under-prioritised chest-pain calls,"
        "2026-03-04,death; serious_health_harm,2026-03-14,Art. 73(4),9 days left,\n"
    )


@settings(max_examples=40, deadline=None)
@given(
    title=st.text(min_size=1, max_size=40).filter(lambda t: t.strip() == t and t),
    count=st.none() | st.integers(min_value=0, max_value=10**6),
    categories=st.lists(st.sampled_from(list(HarmCategory)), unique=True),
    aware=st.none() | st.dates(min_value=dt.date(2024, 8, 2), max_value=dt.date(2030, 1, 1)),
)
def test_company_incident_json_round_trip(
    title: str, count: int | None, categories: list[HarmCategory], aware: dt.date | None
) -> None:
    record = load_company_incident(COMPANY).model_copy(
        update={
            "title": title,
            "awareness_date": aware,
            "occurrence": Occurrence(date=None, countries=["DE"]),
            "people_affected": PeopleAffected(count=count),
            "harm": Harm(categories=categories),
        }
    )
    again = parse_company_incident(json.loads(record.model_dump_json()))
    assert again == record
    report = build_report(
        report_templates.get("eu-ai-act.v1"),
        _flat(record),
        incident="C-1",
        as_of=AS_OF,
    )
    assert report["deadline"]["computed"] is bool(aware and categories)
    render_markdown(report)


def _flat(record: object) -> dict[str, object]:
    from incidentdb._reports._facts import _flatten

    return {**_flatten(record.model_dump(mode="json")), "source": "company"}  # type: ignore[attr-defined]


def test_downgrading_below_0005_removes_company_and_avid_incidents(db_url: str) -> None:
    with Store(db_url) as store:
        store.ingest("aiid.v1", SAMPLE)
        store.add_company_incident(load_company_incident(COMPANY))
        with store.engine.begin() as conn:
            before = conn.exec_driver_sql("SELECT count(*) FROM incidents").scalar_one()
        store.downgrade("0001")
        with store.engine.begin() as conn:
            after = conn.exec_driver_sql("SELECT count(*) FROM incidents").scalar_one()
            orphans = conn.exec_driver_sql(
                "SELECT count(*) FROM incident_entities WHERE incident_pk NOT IN "
                "(SELECT id FROM incidents)"
            ).scalar_one()
        assert (before - after, orphans) == (1, 0)
        store.upgrade()
        assert store.schema_status()["up_to_date"] is True


def test_a_revised_template_is_a_new_version(company_store: Store) -> None:
    from incidentdb import RegistryError
    from incidentdb._reports import ReportTemplate

    v1 = report_templates.get("eu-ai-act.v1")
    sections = [s.model_copy(update={"fields": s.fields[:1]}) for s in v1.sections[:1]]
    revised = ReportTemplate.model_validate(
        {**v1.model_dump(), "name": "eu-ai-act.v99", "sections": [s.model_dump() for s in sections]}
    )
    report_templates.register("eu-ai-act.v99")(revised)
    try:
        report = company_store.report("eu-ai-act.v99", "C-1", as_of=AS_OF)
        assert [f["id"] for s in report["sections"] for f in s["fields"]] == ["report_type"]
        assert company_store.report("eu-ai-act.v1", "C-1", as_of=AS_OF) == json.loads(
            (HERE / "eu_ai_act_initial.json").read_text(encoding="utf-8")
        )
    finally:
        del report_templates._items["eu-ai-act.v99"]
        company_store.close()
    with pytest.raises(RegistryError, match=r"registered: eu-ai-act\.v1, oecd\.v1"):
        report_templates.get("eu-ai-act.v2")


def test_the_shipped_example_is_the_fixture_with_every_field(tmp_path: Path) -> None:
    code, out, _ = _run(str(tmp_path / "s.sqlite"), "incidents", "add", "--example")
    assert code == 0
    example = tmp_path / "example.yaml"
    example.write_text(out, encoding="utf-8")
    shipped = load_company_incident(example)
    assert shipped == load_company_incident(COMPANY)
    import yaml

    keys = set(yaml.safe_load(out))
    assert keys == set(type(shipped).model_fields)
