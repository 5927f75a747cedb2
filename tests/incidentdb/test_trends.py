"""Trends counted in SQL against the same counts computed in Python over the fixture's facts."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import warnings
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from trends_support import (
    SNAPSHOT,
    Fixture,
    FixtureIncident,
    groups_of,
    has_dimension,
    make_fixture,
    period_of,
    write_fixture,
)

from incidentdb import QueryError, Store, Trends
from incidentdb._export import COLUMNS
from incidentdb._trends import parse_where, period_labels
from incidentdb._trends_plot import plot_trends, top_groups

DIMENSIONS = (
    "failure_mode",
    "technique",
    "deployer",
    "developer",
    "harmed",
    "taxonomy:MIT:Risk Domain",
)


@pytest.fixture
def filled(db_url: str) -> tuple[Store, Fixture]:
    store = Store(db_url)
    fixture = make_fixture()
    write_fixture(store, fixture)
    yield store, fixture
    store.close()


def expected(
    incidents: list[FixtureIncident],
    by: str,
    period: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> tuple[list[dict[str, object]], int, int, int]:
    """(rows, incidents in range, unclassified, undated), by plain Python over the fixture."""
    in_range = [
        i
        for i in incidents
        if i.date is not None
        and (since is None or i.date >= since)
        and (until is None or i.date <= until)
    ]
    counts: Counter[tuple[str, str]] = Counter()
    for inc in in_range:
        assert inc.date is not None
        for group in set(groups_of(inc, by)):
            counts[(period_of(inc.date, period), group)] += 1
    rows = [{"period": p, "group": g, "incidents": n} for (p, g), n in sorted(counts.items())]
    unclassified = sum(1 for i in in_range if not has_dimension(i, by))
    undated = sum(1 for i in incidents if i.date is None)
    return rows, len(in_range), unclassified, undated


def test_every_dimension_and_period_matches_python(filled: tuple[Store, Fixture]) -> None:
    store, fixture = filled
    visible = fixture.visible()
    for by in DIMENSIONS:
        for period in ("month", "quarter", "year"):
            got = store.trends(by=by, period=period)
            rows, total, unclassified, undated = expected(visible, by, period)
            assert got.rows == rows, (by, period)
            assert (got.incidents, got.unclassified, got.undated) == (
                total,
                unclassified,
                undated,
            ), (by, period)
            assert got.snapshot_date == SNAPSHOT.date()
    # The fixture is not degenerate: every dimension has groups, gaps and undated incidents.
    year = store.trends(by="failure_mode", period="year")
    assert len(year.rows) > 10 and year.unclassified > 0 and year.undated > 0


def _role_trends_match(store: Store, fixture: Fixture) -> None:
    for by in ("deployer", "developer", "harmed"):
        for period in ("month", "year"):
            got = store.trends(by=by, period=period, include_private=True)
            rows, total, unclassified, _ = expected(fixture.visible(True), by, period)
            assert (got.rows, got.incidents, got.unclassified) == (rows, total, unclassified)


def test_entity_names_follow_every_write(filled: tuple[Store, Fixture]) -> None:
    """The name copied beside each role row (migration 0008) follows inserts, renames and
    moves, whoever writes them (raw SQL here), and two entities of one name count once."""
    store, fixture = filled
    dated = [i for i in fixture.visible(True) if i.date is not None]
    twice = next(i for i in dated if i.roles["deployer"])
    shared = twice.roles["deployer"][0]
    with store.engine.begin() as conn:
        pk_of = dict(conn.execute(text("SELECT name, id FROM entities")).all())
        alias = max(pk_of.values()) + 1  # the fixture wrote explicit keys
        conn.execute(
            text(
                "INSERT INTO entities (id, slug, name, name_known) "
                "VALUES (:pk, 'alias-of-one', :name, :known)"
            ),
            {"pk": alias, "name": shared, "known": True},
        )
        conn.execute(
            text(
                "INSERT INTO incident_entities (incident_pk, entity_pk, role, position) "
                "VALUES (:incident, :entity, 'deployer', 9)"
            ),
            {"incident": twice.pk, "entity": alias},
        )
    _role_trends_match(store, fixture)  # the second "shared" deployer counts once

    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE entities SET name = 'Brightloop Holdings' WHERE id = :pk"),
            {"pk": pk_of["Brightloop"]},
        )
    for inc in fixture.incidents:
        for role, names in inc.roles.items():
            inc.roles[role] = ["Brightloop Holdings" if n == "Brightloop" else n for n in names]
    _role_trends_match(store, fixture)

    moved = next(i for i in dated if i.roles["harmed"] and "Users" not in i.roles["harmed"])
    old_name = moved.roles["harmed"][0]
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE incident_entities SET entity_pk = :new WHERE incident_pk = :incident "
                "AND entity_pk = :old AND role = 'harmed'"
            ),
            {"new": pk_of["Users"], "old": pk_of[old_name], "incident": moved.pk},
        )
    moved.roles["harmed"] = ["Users" if n == old_name else n for n in moved.roles["harmed"]]
    _role_trends_match(store, fixture)


def test_migration_0008_backfills_the_names(filled: tuple[Store, Fixture]) -> None:
    store, fixture = filled
    store.downgrade("0007")
    store.upgrade()
    _role_trends_match(store, fixture)


@pytest.mark.parametrize("inline", [True, False], ids=["hidden-inlined", "hidden-subquery"])
def test_since_until_and_private(
    filled: tuple[Store, Fixture], inline: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, fixture = filled
    if not inline:  # as if there were more hidden incidents than are written out as a list
        monkeypatch.setattr("incidentdb._trends._HIDDEN_INLINE", 0)
    since, until = dt.date(2022, 4, 1), dt.date(2023, 9, 30)
    got = store.trends(by="deployer", period="quarter", since=since, until=until)
    rows, total, unclassified, undated = expected(
        fixture.visible(), "deployer", "quarter", since, until
    )
    assert got.rows == rows
    assert (got.incidents, got.unclassified, got.undated) == (total, unclassified, undated)
    assert {r["period"] for r in got.rows} <= set(period_labels("2022-Q2", "2023-Q3", "quarter"))

    private = store.trends(by="deployer", period="year", include_private=True)
    rows, total, _, undated = expected(fixture.visible(include_private=True), "deployer", "year")
    assert private.rows == rows
    assert private.incidents == total
    assert private.incidents > store.trends(by="deployer", period="year").incidents


def test_where_filters(filled: tuple[Store, Fixture]) -> None:
    store, fixture = filled
    where = {"deployer": ["acme"], "failure_mode": ["agentic"]}
    got = store.trends(by="technique", period="year", where=where)
    chosen = [
        i
        for i in fixture.visible()
        if "Acme" in i.roles["deployer"] and "agentic" in i.labels("mode")
    ]
    rows, total, unclassified, undated = expected(chosen, "technique", "year")
    assert chosen and got.rows == rows
    assert (got.incidents, got.unclassified, got.undated) == (total, unclassified, undated)
    assert got.where == where

    taxonomy = store.trends(
        by="harmed",
        period="year",
        where=parse_where(["taxonomy=MIT:Risk Domain=2. Privacy & Security", "developer=Ridepath"]),
    )
    chosen = [
        i
        for i in fixture.visible()
        if "2. Privacy & Security" in i.risk_domains and "Ridepath" in i.roles["developer"]
    ]
    rows, total, unclassified, undated = expected(chosen, "harmed", "year")
    assert taxonomy.rows == rows
    assert (taxonomy.incidents, taxonomy.unclassified, taxonomy.undated) == (
        total,
        unclassified,
        undated,
    )

    # A range with one filter: its totals come from the filter's own rows and their dates.
    since, until = dt.date(2022, 4, 1), dt.date(2024, 9, 30)
    ranged = store.trends(
        by="failure_mode",
        period="quarter",
        since=since,
        until=until,
        where={"taxonomy": ["MIT:Risk Domain=1. Discrimination"]},
    )
    chosen = [i for i in fixture.visible() if "1. Discrimination" in i.risk_domains]
    rows, total, unclassified, undated = expected(chosen, "failure_mode", "quarter", since, until)
    assert chosen and ranged.rows == rows
    assert (ranged.incidents, ranged.unclassified, ranged.undated) == (
        total,
        unclassified,
        undated,
    )


def test_merged_duplicates_never_count(filled: tuple[Store, Fixture]) -> None:
    store, fixture = filled
    merged = next(i for i in fixture.incidents if i.merged_away)
    assert merged.date is not None
    got = store.trends(by="deployer", period="month", since=merged.date, until=merged.date)
    assert got.incidents == sum(1 for i in fixture.visible() if i.date == merged.date)


def test_bad_parameters_name_the_problem(filled: tuple[Store, Fixture]) -> None:
    store, _ = filled
    with pytest.raises(QueryError, match="cannot group by 'colour'"):
        store.trends(by="colour")
    with pytest.raises(QueryError, match="cannot group by 'taxonomy:MIT'"):
        store.trends(by="taxonomy:MIT")
    with pytest.raises(QueryError, match="unknown period 'week'"):
        store.trends(by="deployer", period="week")
    with pytest.raises(QueryError, match="after"):
        store.trends(by="deployer", since=dt.date(2024, 1, 1), until=dt.date(2023, 1, 1))
    with pytest.raises(QueryError, match="'colour=red' is not KEY=VALUE"):
        parse_where(["colour=red"])
    with pytest.raises(QueryError, match="taxonomy filter 'MIT' is not NAMESPACE:ATTRIBUTE"):
        store.trends(by="deployer", where={"taxonomy": ["MIT"]})


def test_period_labels_fill_gaps() -> None:
    assert period_labels("2023-11", "2024-02", "month") == [
        "2023-11",
        "2023-12",
        "2024-01",
        "2024-02",
    ]
    assert period_labels("2023-Q4", "2024-Q2", "quarter") == ["2023-Q4", "2024-Q1", "2024-Q2"]
    assert period_labels("2022", "2024", "year") == ["2022", "2023", "2024"]


def _trends_for_plot() -> Trends:
    rows = [
        {"period": "2023-Q1", "group": "agentic", "incidents": 3},
        {"period": "2023-Q1", "group": "misuse", "incidents": 1},
        {"period": "2023-Q3", "group": "agentic", "incidents": 2},
        {"period": "2023-Q3", "group": "robustness", "incidents": 4},
        {"period": "2024-Q1", "group": "multi_turn", "incidents": 1},
    ]
    return Trends(
        rows=rows,
        by="failure_mode",
        period="quarter",
        incidents=12,
        unclassified=2,
        undated=1,
        snapshot_date=SNAPSHOT.date(),
    )


def test_top_groups_sum_the_rest_as_other() -> None:
    groups, series = top_groups(_trends_for_plot(), 2)
    assert groups == ["agentic", "robustness", "Other"]  # 5 and 4 incidents; then 1 and 1
    assert series["Other"] == {"2023-Q1": 1, "2024-Q1": 1}


@pytest.mark.parametrize("style", ["stacked", "lines"])
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_chart_files_are_written_without_warnings(tmp_path: Path, style: str, suffix: str) -> None:
    path = tmp_path / f"chart{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_trends(_trends_for_plot(), path, style=style, top=3)
    assert path.stat().st_size > 10_000
    head = path.read_bytes()[:200]
    if suffix == ".png":
        assert head.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert b"<svg" in head
        # Title, axis labels, legend and source line are text in the SVG (editable in a paper).
        text = path.read_text(encoding="utf-8")
        for words in (
            "AI incidents per quarter by failure mode",
            ">Quarter<",
            ">Incidents<",
            ">Failure mode<",
            ">agentic<",
            ">Other<",
            "2023-Q2",  # an empty quarter still has its place on the axis
            "AIID snapshot of 2026-02-22. 12 incidents in range; 2 without a failure mode",
        ):
            assert words in text, words


def test_chart_refuses_bad_files_and_empty_data(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match=r"chart\.pdf"):
        plot_trends(_trends_for_plot(), tmp_path / "chart.pdf")
    with pytest.raises(QueryError, match="style"):
        plot_trends(_trends_for_plot(), tmp_path / "chart.png", style="pie")
    empty = Trends(rows=[], by="technique", period="year", incidents=3, unclassified=3, undated=0)
    with pytest.raises(QueryError, match="nothing to draw"):
        plot_trends(empty, tmp_path / "chart.png")
    assert not list(tmp_path.iterdir())


def _expected_export(fixture: Fixture, include_private: bool) -> list[dict[str, object]]:
    return [
        {
            "incident_id": i.incident_id,
            "source": i.source,
            "date": i.date,
            "title": i.title,
            "description": f"What happened in incident {i.pk}.",
            "reports": 0,
            "deployers": i.roles["deployer"],
            "developers": i.roles["developer"],
            "harmed": i.roles["harmed"],
            "failure_modes": i.labels("mode"),
            "techniques": i.labels("technique"),
            "classified": i.classified("mode"),
        }
        for i in fixture.visible(include_private)
    ]


@pytest.mark.parametrize("include_private", [False, True])
def test_export_round_trips(filled: tuple[Store, Fixture], include_private: bool) -> None:
    store, fixture = filled
    want = _expected_export(fixture, include_private)

    out = io.BytesIO()
    assert store.export_incidents(out, "jsonl", include_private=include_private) == len(want)
    lines = out.getvalue().decode("utf-8").splitlines()
    got = [json.loads(line) for line in lines]
    assert got == [
        {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()} for row in want
    ]
    assert all(list(json.loads(line)) == sorted(COLUMNS) for line in lines)

    out = io.BytesIO()
    store.export_incidents(out, "parquet", include_private=include_private)
    table = pq.read_table(io.BytesIO(out.getvalue()))
    assert table.column_names == list(COLUMNS)
    assert table.to_pylist() == want

    out = io.BytesIO()
    store.export_incidents(out, "csv", include_private=include_private)
    import csv

    reader = csv.DictReader(io.StringIO(out.getvalue().decode("utf-8")))
    assert reader.fieldnames == list(COLUMNS)

    def cell(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "; ".join(v)
        return v.isoformat() if isinstance(v, dt.date) else str(v)

    assert list(reader) == [{k: cell(v) for k, v in row.items()} for row in want]
    assert (not include_private) == all(row["source"] != "company" for row in want)


def test_export_streams_in_batches(
    filled: tuple[Store, Fixture], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches smaller than the store: rows split across fetches and row groups still line up."""
    import incidentdb._export as export

    store, fixture = filled
    monkeypatch.setattr(export, "BATCH", 7)
    out = io.BytesIO()
    store.export_incidents(out, "parquet")
    parquet = pq.ParquetFile(io.BytesIO(out.getvalue()))
    assert parquet.metadata.num_row_groups == -(-len(fixture.visible()) // 7)
    assert parquet.read().to_pylist() == _expected_export(fixture, False)


def test_export_rejects_an_unknown_format(filled: tuple[Store, Fixture]) -> None:
    store, _ = filled
    with pytest.raises(QueryError, match="unknown export format 'xlsx'"):
        store.export_incidents(io.BytesIO(), "xlsx")


_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
_NAMES = st.lists(
    st.text(st.characters(whitelist_categories=("L", "N", "Zs")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool),
    max_size=3,
    unique=True,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    incidents=st.lists(
        st.tuples(_TEXT, st.none() | _TEXT, st.none() | st.dates(dt.date(1990, 1, 1)), _NAMES),
        max_size=6,
    )
)
def test_export_round_trips_any_text(tmp_path: Path, incidents: list[tuple]) -> None:
    """Titles with quotes, commas, newlines and any script come back as they went in."""
    from sqlalchemy import insert

    from incidentdb._models import Entity, Incident, IncidentEntity, table_of

    db = tmp_path / f"rt-{uuid.uuid4().hex}.sqlite"
    names = sorted({n for *_, deployers in incidents for n in deployers})
    with Store(f"sqlite:///{db}") as store:
        with store.engine.begin() as conn:
            if incidents:
                conn.execute(
                    insert(table_of(Incident)),
                    [
                        {"id": i, "incident_id": i, "title": t, "description": d, "date": day}
                        for i, (t, d, day, _) in enumerate(incidents, 1)
                    ],
                )
            if names:
                conn.execute(
                    insert(table_of(Entity)),
                    [{"id": i, "slug": f"e{i}", "name": n} for i, n in enumerate(names, 1)],
                )
            links = [
                {
                    "incident_pk": i,
                    "entity_pk": names.index(n) + 1,
                    "role": "deployer",
                    "position": p,
                }
                for i, (*_, deployers) in enumerate(incidents, 1)
                for p, n in enumerate(deployers)
            ]
            if links:
                conn.execute(insert(table_of(IncidentEntity)), links)
        outputs = {}
        for fmt in ("csv", "jsonl", "parquet"):
            out = io.BytesIO()
            assert store.export_incidents(out, fmt) == len(incidents)
            outputs[fmt] = out.getvalue()
    want = [
        {"title": t, "description": d, "date": day, "deployers": deployers}
        for t, d, day, deployers in incidents
    ]
    table = pq.read_table(io.BytesIO(outputs["parquet"])).to_pylist()
    assert [{k: r[k] for k in ("title", "description", "date", "deployers")} for r in table] == want
    lines = [json.loads(x) for x in outputs["jsonl"].decode("utf-8").split("\n") if x]
    assert [{k: r[k] for k in ("title", "description", "date", "deployers")} for r in lines] == [
        {**w, "date": w["date"].isoformat() if w["date"] else None} for w in want
    ]
    import csv

    rows = list(csv.DictReader(io.StringIO(outputs["csv"].decode("utf-8"), newline="")))
    assert [(r["title"], r["description"], r["date"], r["deployers"]) for r in rows] == [
        (t, d or "", day.isoformat() if day else "", "; ".join(deployers))
        for t, d, day, deployers in incidents
    ]
