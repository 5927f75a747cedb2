"""`feeds`, `ingest feeds`, `review`, `incidents merge`, `reports move`: exact CLI output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from feed_judges import KeywordJudge
from rss_server import rss, running_server
from tests_support import PROJECT_ROOT

from incidentdb import Store
from incidentdb.cli import cli

OPML = PROJECT_ROOT / "tests" / "ingest" / "rss" / "fixtures" / "feeds.opml"


def invoke(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--quiet", "--db", db, *args])


def run(db: str, *args: str) -> str:
    result = invoke(db, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "store.sqlite")


def test_add_list_remove(db: str) -> None:
    out = run(db, "feeds", "add", "https://a.example.com/rss", "--name", "A", "--format", "csv")
    assert out == "id,url,result\n1,https://a.example.com/rss,added\n"
    out = run(db, "feeds", "add", "https://a.example.com/rss", "--format", "csv")
    assert out == "id,url,result\n1,https://a.example.com/rss,present\n"
    run(db, "feeds", "add", "https://b.example.com/atom", "--fulltext")
    listed = json.loads(run(db, "feeds", "list", "--format", "json"))
    assert [(f["id"], f["url"], f["name"], f["fulltext"], f["state"]) for f in listed] == [
        (1, "https://a.example.com/rss", "A", False, "new"),
        (2, "https://b.example.com/atom", None, True, "new"),
    ]
    assert len(json.loads(run(db, "feeds", "list", "--format", "json", "--limit", "1"))) == 1
    assert run(db, "feeds", "remove", "1") == (
        "removed feed 1 (https://a.example.com/rss); 0 entries kept\n"
    )
    assert run(db, "feeds", "remove", "https://b.example.com/atom").startswith("removed feed 2")
    assert run(db, "feeds", "list", "--format", "csv") == (
        "id,url,name,fulltext,state,last_outcome,last_status,failures,last_polled_at,"
        "next_due_at,entries,last_error\n"
    )


def test_bad_input_gets_an_error_and_a_hint(db: str) -> None:
    result = invoke(db, "feeds", "add", "ftp://example.com/feed")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 'ftp://example.com/feed' is not an http(s) URL\n"
        "Hint: Give the feed's full address, https://…\n"
    )
    result = invoke(db, "feeds", "remove", "42")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no feed 42\n")


def test_import_opml(db: str) -> None:
    out = run(db, "feeds", "import", str(OPML), "--format", "csv")
    assert out == (
        "id,url,result\n"
        "1,https://news.example.com/rss2.xml,added\n"
        "2,https://journal.example.org/atom.xml,added\n"
        "3,https://rdf.example.net/index.rdf,added\n"
    )
    listed = json.loads(run(db, "feeds", "list", "--format", "json"))
    assert [f["fulltext"] for f in listed] == [False, True, False]
    # Importing again adds nothing.
    assert "added" not in run(db, "feeds", "import", str(OPML), "--format", "csv")


@pytest.mark.shared
def test_import_aiids_feed_list(db: str, shared_dir: Path) -> None:
    path = (
        shared_dir / "aiid_data" / "responsible-ai-collaborative+nlp-monitoring" / "data_feeds.json"
    )
    items = json.loads(path.read_text())
    rows = json.loads(run(db, "feeds", "import", str(path), "--format", "json"))
    assert len(rows) == len({item["url"].strip() for item in items})
    assert {r["result"] for r in rows} == {"added"}
    listed = {f["url"]: f for f in json.loads(run(db, "feeds", "list", "--format", "json"))}
    marked = {item["url"] for item in items if item.get("fulltext")}
    assert marked and {u for u, f in listed.items() if f["fulltext"]} == marked


def test_ingest_feeds_prints_one_row_per_feed(db: str) -> None:
    with running_server() as server:
        run(db, "feeds", "add", server.url("/gen/cli?n=2"))
        run(db, "feeds", "add", server.url("/status/404"))
        out = run(db, "ingest", "feeds", "--timeout", "2", "--format", "csv")
        # The default relevance filter files both generated incident stories as reports.
        assert out == (
            "feed,url,outcome,status,seen,new,duplicate,rejected,reports,errors,error\n"
            f"1,{server.url('/gen/cli?n=2')},ok,200,2,2,0,0,2,0,\n"
            f"2,{server.url('/status/404')},not_found,404,0,0,0,0,0,0,"
            "the server answered 404 Not Found\n"
        )
        again = json.loads(run(db, "ingest", "feeds", "--all", "--format", "json"))
        assert again["outcome"] == "unchanged"
        assert [(f["feed"], f["outcome"]) for f in again["feeds"]] == [
            (1, "not_modified"),
            (2, "not_found"),
        ]
        listed = json.loads(run(db, "feeds", "list", "--format", "json"))
        assert [(f["state"], f["failures"], f["entries"]) for f in listed] == [
            ("ok", 0, 2),
            ("failing", 2, 0),
        ]
        runs = run(db, "ingest", "runs", "--format", "json")
        assert [(r["ingester"], r["outcome"]) for r in json.loads(runs)] == [
            ("rss.v1", "unchanged"),
            ("rss.v1", "succeeded"),
        ]


def test_review_accept_reject_merge_move(db: str) -> None:
    with running_server() as server, Store(db) as store:
        server.documents["d"] = rss(
            [
                ("Chatbot harms teen user", "https://d.example.com/1", "AI"),
                ("Facial recognition algorithm bias arrest", "https://d.example.com/2", "AI"),
                ("Robot vacuum crash AI lawsuit", "https://d.example.com/3", "AI"),
            ]
        )
        store.add_feeds([(server.url("/doc/d"), None, False)])
        store.ingest_feeds(judge=KeywordJudge())
    out = run(db, "review", "--format", "csv")
    assert out == (
        "incident,date,title,reports,status,best_matches,decided_by\n"
        "f3,2026-06-01,Robot vacuum crash AI lawsuit,1,candidate,f1 (0.20); f2 (0.20),\n"
        "f2,2026-06-01,Facial recognition algorithm bias arrest,1,candidate,,\n"
        "f1,2026-06-01,Chatbot harms teen user,1,candidate,,\n"
    )
    assert run(db, "review", "show", "f3", "--format", "csv") == (
        "report,date,title,url,score,evidence\n"
        "r3,2026-06-01,Robot vacuum crash AI lawsuit,https://d.example.com/3,0.9,ai; crash; lawsuit\n"
    )
    assert run(db, "review", "accept", "f1", "--author", "ann") == (
        "f1 accepted (decision 1 by ann)\n"
    )
    assert run(db, "review", "reject", "f2", "--author", "ann") == (
        "f2 rejected (decision 2 by ann)\n"
    )
    assert run(db, "reports", "move", "r3", "--to", "f1", "--author", "ed") == (
        "r3 moved to f1 (decision 3 by ed)\n"
    )
    assert run(db, "incidents", "merge", "f1", "f3", "--author", "ed") == (
        "f3 merged into f1: 0 reports moved (decision 4 by ed)\n"
    )
    assert run(db, "review", "--status", "all", "--format", "csv").count("\n") == 4
    decisions = json.loads(run(db, "review", "decisions", "--format", "json"))
    assert [
        (d["action"], d["incident"], d["report"], d["target"], d["author"]) for d in decisions
    ] == [
        ("merge", "f3", None, "f1", "ed"),
        ("move", None, "r3", "f1", "ed"),
        ("reject", "f2", None, None, "ann"),
        ("accept", "f1", None, None, "ann"),
    ]
    result = invoke(db, "incidents", "merge", "f1", "f1")
    assert result.exit_code == 1 and "into itself" in result.stderr
    result = invoke(db, "reports", "move", "bogus", "--to", "f1")
    assert result.exit_code == 1 and "does not name a report" in result.stderr
