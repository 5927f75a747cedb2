"""`incidentdb taxonomy`: the failure-mode taxonomy, its crosswalk, and training and evaluating
its classifiers (`show` and `build-default` need no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import echo_json, format_option, output_rows
from taxonomy import SCHEMES, load_taxonomy

NODE_COLUMNS = ["id", "parent", "name", "summary"]

# `train` and `eval` read the same labels file.
labels_option = click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help='JSONL of {"incident_id": N, "labels": [...]} (AIID ids in the store).',
)
CROSSWALK_COLUMNS = ["id", "code", "name", "match", "verified"]


@click.group()
def taxonomy() -> None:
    """The failure-mode taxonomy: modes, techniques, crosswalks to public taxonomies."""


@taxonomy.command()
@click.option(
    "--to",
    "scheme",
    type=click.Choice(SCHEMES),
    default=None,
    help="List the crosswalk to this public taxonomy instead of the nodes.",
)
@format_option
def show(scheme: str | None, fmt: str) -> None:
    """List the failure modes and techniques, or their crosswalk (--to)."""
    tax = load_taxonomy()
    if scheme is None:
        rows: list[dict[str, Any]] = [
            {"id": n.id, "parent": n.parent, "name": n.name, "summary": n.summary}
            for n in tax.nodes
        ]
        output_rows(rows, fmt, NODE_COLUMNS, title=f"Failure-mode taxonomy {tax.version}")
        return
    crosswalk: list[dict[str, Any]] = [
        {"id": n.id, "code": e.code, "name": e.name, "match": e.match, "verified": e.verified}
        for n in tax.nodes
        for e in tax.crosswalk(n.id, scheme)
    ]
    info = tax.scheme_info(scheme)
    output_rows(
        crosswalk, fmt, CROSSWALK_COLUMNS, title=f"{tax.version} → {info.title} ({info.edition})"
    )


EVAL_COLUMNS = ["label", "precision", "recall", "f1", "support", "f1_95ci", "cv_f1"]


@taxonomy.command("build-default")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to save it (default: the cache the classifier is loaded from).",
)
@pass_app
def build_default(app: AppContext, out: Path | None) -> None:
    """Build the default classifier from the shipped examples and rules (deterministic)."""
    from taxonomy import build_default as build
    from taxonomy import default_cache_path

    target = out or default_cache_path()
    classifier = build(target)
    app.info(f"{classifier.name} {classifier.version_} saved to {target}")
    click.echo(str(target))


@taxonomy.command()
@labels_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("failure-modes.model"),
    show_default=True,
    help="Where to save the trained model.",
)
@click.option("--name", default="incidentdb.trained", show_default=True, help="Provenance name.")
@click.option(
    "--examples/--no-examples",
    default=True,
    show_default=True,
    help="Also train on the shipped examples (helps modes with few labelled incidents).",
)
@click.option(
    "--prior/--no-prior",
    default=True,
    show_default=True,
    help="Stack the shipped default's per-label log-odds beside the text features.",
)
@pass_app
def train(
    app: AppContext, labels_path: Path, out: Path, name: str, examples: bool, prior: bool
) -> None:
    """Train a classifier on your labels and save it with a version stamp (use with --model)."""
    from taxonomy import train as run_train

    classifier = run_train(
        app.store(), labels_path, name=name, with_examples=examples, with_prior=prior, out=out
    )
    app.info(f"{classifier.name} {classifier.version_} saved to {out}")
    click.echo(str(out))


@taxonomy.command("eval")
@labels_option
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A model saved by `taxonomy train` (default: the shipped classifier).",
)
@click.option(
    "--folds",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Cross-validation folds for a model trained on the labels (0: skip).",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Bootstrap rounds for the 95% intervals (0: skip).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--examples/--no-examples",
    default=True,
    show_default=True,
    help="Cross-validated models also train on the shipped examples.",
)
@click.option(
    "--prior/--no-prior",
    default=True,
    show_default=True,
    help="Cross-validated models stack the shipped default's log-odds as features.",
)
@click.option(
    "--level",
    type=click.Choice(["mode", "technique"]),
    default="mode",
    show_default=True,
    help="Measure the failure-mode tags, or the technique tags against technique labels.",
)
@format_option
@pass_app
def eval_(
    app: AppContext,
    labels_path: Path,
    model_path: Path | None,
    folds: int,
    bootstrap: int,
    seed: int,
    examples: bool,
    prior: bool,
    level: str,
    fmt: str,
) -> None:
    """Precision, recall, F1, support and macro-F1 of a classifier against your labels."""
    from taxonomy import evaluate, evaluate_techniques, load_classifier

    classifier = load_classifier(model_path) if model_path else None
    if level == "technique":
        _print_technique_eval(
            evaluate_techniques(app.store(), labels_path, classifier, progress=app.progress()),
            fmt,
        )
        return
    result = evaluate(
        app.store(),
        labels_path,
        classifier,
        folds=folds,
        bootstrap=bootstrap,
        seed=seed,
        with_examples=examples,
        with_prior=prior,
        progress=app.progress(),
    )
    if fmt == "json":
        echo_json(result)
        return
    intervals = result["intervals"] or {}
    cv = result["cv"] or {}

    def ci(key: str) -> str:
        low_high = intervals.get(key, {}).get("f1")
        return f"{low_high[0]:.3f}–{low_high[1]:.3f}" if low_high else ""

    rows: list[dict[str, Any]] = [
        {
            "label": mode,
            **{k: f"{v:.3f}" if k != "support" else v for k, v in scores.items()},
            "f1_95ci": ci(mode),
            "cv_f1": f"{cv['labels'][mode]['f1']:.3f}" if cv else "",
        }
        for mode, scores in result["labels"].items()
    ]
    rows.append(
        {
            "label": "macro",
            "f1": f"{result['macro_f1']:.3f}",
            "support": sum(s["support"] for s in result["labels"].values()),
            "f1_95ci": ci("macro_f1"),
            "cv_f1": f"{cv['macro_f1']:.3f}" if cv else "",
        }
    )
    model = result["model"]
    title = f"{model['name']} {model['version']} on {result['incidents']} incidents"
    if cv:
        title += f" (cv: {cv['folds']}-fold, trained on the labels)"
    output_rows(rows, fmt, EVAL_COLUMNS, title=title)


TECHNIQUE_EVAL_COLUMNS = ["technique", "precision", "recall", "f1", "support"]


def _print_technique_eval(result: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        echo_json(result)
        return
    rows: list[dict[str, Any]] = [
        {
            "technique": technique,
            **{k: f"{v:.3f}" if k != "support" else v for k, v in scores.items()},
        }
        for technique, scores in result["labels"].items()
    ]
    rows.append({"technique": "macro (labelled techniques)", "f1": f"{result['macro_f1']:.3f}"})
    model = result["model"]
    title = f"{model['name']} {model['version']} techniques on {result['incidents']} incidents"
    output_rows(rows, fmt, TECHNIQUE_EVAL_COLUMNS, title=title)
