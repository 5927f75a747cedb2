"""`incidentdb classify`, `label`, `taxonomy train|eval` and the failure-mode filter: exact output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from incidentdb.cli import cli
from taxonomy import FailureModeClassifier, load_classifier


def invoke(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--quiet", "--db", db, *args])


def run(db: str, *args: str) -> str:
    result = invoke(db, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


@pytest.fixture
def model_path(small_classifier: FailureModeClassifier, tmp_path: Path) -> str:
    return str(small_classifier.save(tmp_path / "small.model"))


def test_classify_summary_and_rerun(sqlite_store_url: str, model_path: str) -> None:
    out = run(sqlite_store_url, "classify", "101", "105", "--model", model_path, "--format", "csv")
    assert out == (
        "what,count\n"
        "selected,2\n"
        "classified,2\n"
        "skipped (already classified by this version),0\n"
        "rows written,5\n"  # misuse + no technique; adversarial + two techniques
        "tagged multi_turn,0\n"
        "tagged agentic,0\n"
        "tagged distribution_shift,0\n"
        "tagged adversarial,1\n"
        "tagged misuse,1\n"
        "no failure mode,0\n"
    )
    again = json.loads(
        run(sqlite_store_url, "classify", "--all", "--model", model_path, "--format", "json")
    )
    assert {r["what"]: r["count"] for r in again}[
        "skipped (already classified by this version)"
    ] == 2
    assert {r["what"]: r["count"] for r in again}["classified"] == 16


def test_classify_needs_exactly_one_selection(sqlite_store_url: str) -> None:
    result = invoke(sqlite_store_url, "classify")
    assert result.exit_code == 2
    assert "give incident IDs, --since DATE or --all (exactly one)" in result.output
    result = invoke(sqlite_store_url, "classify", "--all", "101")
    assert result.exit_code == 2


def test_classify_refuses_a_broken_model(sqlite_store_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"junk")
    result = invoke(sqlite_store_url, "classify", "--all", "--model", str(bad))
    assert result.exit_code == 1
    assert f"Error: {bad} is not a saved classifier" in result.stderr
    assert "Hint: Retrain it with `incidentdb taxonomy train`" in result.stderr


def test_label_add_remove_then_list_and_show(sqlite_store_url: str, model_path: str) -> None:
    run(sqlite_store_url, "classify", "101", "--model", model_path)
    out = run(
        sqlite_store_url,
        "label",
        "101",
        "--add",
        "agentic",
        "--remove",
        "misuse",
        "--author",
        "ana",
        "--format",
        "csv",
    )
    assert out == "what,count\nrecorded,2\nunchanged,0\nincidents,1\n"
    listed = run(
        sqlite_store_url, "incidents", "list", "--failure-mode", "agentic", "--format", "csv"
    )
    assert [line.split(",")[0] for line in listed.splitlines()] == ["incident_id", "101"]
    assert run(
        sqlite_store_url, "incidents", "list", "--failure-mode", "misuse", "--format", "csv"
    ) == ("incident_id,date,title,deployers,developers,reports\n")
    shown = run(sqlite_store_url, "incidents", "show", "101")
    assert "Failure modes: agentic (human)\n" in shown


def test_label_errors_are_clear(sqlite_store_url: str) -> None:
    result = invoke(sqlite_store_url, "label", "101", "--add", "agentik")
    assert result.exit_code == 1
    assert "Error: unknown failure mode or technique 'agentik'" in result.stderr
    assert (
        "Hint: The modes are multi_turn, agentic, distribution_shift, adversarial, misuse"
        in result.stderr
    )


def test_label_import(sqlite_store_url: str, labels_file: Path) -> None:
    out = run(
        sqlite_store_url,
        "label",
        "import",
        str(labels_file),
        "--author",
        "panel",
        "--format",
        "csv",
    )
    assert out == "what,count\nlines,18\nrecorded,90\nunchanged,0\nincidents,18\n"
    out = run(sqlite_store_url, "label", "import", str(labels_file), "--format", "csv")
    assert out == "what,count\nlines,18\nrecorded,0\nunchanged,90\nincidents,0\n"
    shown = run(sqlite_store_url, "incidents", "show", "106")
    assert "Failure modes: adversarial (human), agentic (human)\n" in shown


def test_eval_json_is_one_object_of_the_documented_shape(
    sqlite_store_url: str, labels_file: Path, model_path: str
) -> None:
    out = run(
        sqlite_store_url,
        "taxonomy",
        "eval",
        "--labels",
        str(labels_file),
        "--model",
        model_path,
        "--folds",
        "2",
        "--bootstrap",
        "50",
        "--no-examples",
        "--format",
        "json",
    )
    result = json.loads(out)
    assert isinstance(result, dict)
    assert set(result) >= {"macro_f1", "labels"}
    assert list(result["labels"]) == [
        "multi_turn",
        "agentic",
        "distribution_shift",
        "adversarial",
        "misuse",
    ]
    for scores in result["labels"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
        assert all(0.0 <= scores[k] <= 1.0 for k in ("precision", "recall", "f1"))
    assert [s["support"] for s in result["labels"].values()] == [2, 3, 3, 3, 4]
    f1s = [s["f1"] for s in result["labels"].values()]
    assert result["macro_f1"] == pytest.approx(sum(f1s) / 5, abs=1e-3)
    low, high = result["intervals"]["macro_f1"]["f1"]
    assert 0.0 <= low <= high <= 1.0
    assert result["model"]["name"] == "test.small"
    assert result["incidents"] == 18
    assert result["cv"]["folds"] == 2 and set(result["cv"]["labels"]) == set(result["labels"])


def test_eval_table(sqlite_store_url: str, labels_file: Path, model_path: str) -> None:
    out = run(
        sqlite_store_url,
        "taxonomy",
        "eval",
        "--labels",
        str(labels_file),
        "--model",
        model_path,
        "--folds",
        "0",
        "--bootstrap",
        "0",
        "--format",
        "csv",
    )
    lines = out.splitlines()
    assert lines[0] == "label,precision,recall,f1,support,f1_95ci,cv_f1"
    assert [line.split(",")[0] for line in lines[1:]] == [
        "multi_turn",
        "agentic",
        "distribution_shift",
        "adversarial",
        "misuse",
        "macro",
    ]
    assert lines[-1].startswith("macro,,,") and lines[-1].endswith(",15,,")


def test_eval_of_an_unknown_incident(
    sqlite_store_url: str, tmp_path: Path, model_path: str
) -> None:
    labels = tmp_path / "l.jsonl"
    labels.write_text('{"incident_id": 77777, "labels": []}\n')
    result = invoke(
        sqlite_store_url, "taxonomy", "eval", "--labels", str(labels), "--model", model_path
    )
    assert result.exit_code == 1
    assert "Error: no incident 77777 in this store" in result.stderr


def test_train_saves_a_model_that_classify_uses(
    sqlite_store_url: str, labels_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine.model"
    printed = run(
        sqlite_store_url,
        "taxonomy",
        "train",
        "--labels",
        str(labels_file),
        "--out",
        str(out),
        "--no-examples",
        "--name",
        "team.v1",
    )
    assert printed == f"{out}\n"
    model = load_classifier(out)
    assert model.name == "team.v1"
    summary = json.loads(
        run(sqlite_store_url, "classify", "--all", "--model", str(out), "--format", "json")
    )
    assert {r["what"]: r["count"] for r in summary}["classified"] == 18


def test_train_stacks_the_default_unless_told_not_to(
    sqlite_store_url: str, labels_file: Path, tmp_path: Path
) -> None:
    from taxonomy import default_classifier

    stacked, plain = tmp_path / "stacked.model", tmp_path / "plain.model"
    for out, flag in ((stacked, "--prior"), (plain, "--no-prior")):
        args = ("--labels", str(labels_file), "--out", str(out), "--no-examples", flag)
        assert run(sqlite_store_url, "taxonomy", "train", *args) == f"{out}\n"
    with_prior, without = load_classifier(stacked), load_classifier(plain)
    assert with_prior.prior.version_ == default_classifier().version_
    assert list(with_prior.feature_names_[-5:]) == [f"prior:{m}" for m in with_prior.labels_]
    assert without.prior is None
    assert not any(str(n).startswith("prior:") for n in without.feature_names_)


TECHNIQUE_LABELS = Path(__file__).parent / "fixtures" / "techniques.jsonl"


def test_eval_of_techniques(sqlite_store_url: str, model_path: str) -> None:
    out = run(
        sqlite_store_url,
        "taxonomy",
        "eval",
        "--level",
        "technique",
        "--labels",
        str(TECHNIQUE_LABELS),
        "--model",
        model_path,
        "--format",
        "csv",
    )
    # 110 is labelled crescendo, which the text does not show: a miss, and with it half the
    # support of its parent, adversarial.jailbreak. 118 ("no evidence of a jailbreak") is
    # negated: no technique. Techniques neither labelled nor tagged are left out.
    assert out == (
        "technique,precision,recall,f1,support\n"
        "agentic.tool_misuse,1.000,1.000,1.000,1\n"
        "agentic.data_exfiltration,1.000,1.000,1.000,1\n"
        "distribution_shift.demographic_underrepresentation,1.000,1.000,1.000,1\n"
        "distribution_shift.environment_shift,1.000,1.000,1.000,1\n"
        "adversarial.prompt_injection,1.000,1.000,1.000,1\n"
        "adversarial.prompt_injection.indirect,1.000,1.000,1.000,1\n"
        "adversarial.jailbreak,1.000,0.500,0.667,2\n"
        "adversarial.jailbreak.role_play,1.000,1.000,1.000,1\n"
        "adversarial.jailbreak.crescendo,0.000,0.000,0.000,1\n"
        "macro (labelled techniques),,,0.852,\n"
    )
    result = json.loads(
        run(
            sqlite_store_url,
            "taxonomy",
            "eval",
            "--level",
            "technique",
            "--labels",
            str(TECHNIQUE_LABELS),
            "--model",
            model_path,
            "--format",
            "json",
        )
    )
    assert result["level"] == "technique"
    assert result["macro_f1"] == 0.8519
    assert result["incidents"] == 7
    assert result["labels"]["adversarial.jailbreak"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
        "support": 2,
    }


def test_eval_of_techniques_refuses_a_mode_label(
    sqlite_store_url: str, tmp_path: Path, model_path: str
) -> None:
    labels = tmp_path / "t.jsonl"
    labels.write_text('{"incident_id": 105, "labels": ["adversarial"]}\n')
    result = invoke(
        sqlite_store_url,
        "taxonomy",
        "eval",
        "--level",
        "technique",
        "--labels",
        str(labels),
        "--model",
        model_path,
    )
    assert result.exit_code == 1
    assert "unknown label adversarial (the techniques are agentic.tool_misuse," in result.stderr
