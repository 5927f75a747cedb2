"""`incidentdb eval`: measure the relevance filter and the grouping. Needs no database."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from incidentdb.cli._output import format_option, output_rows

RELEVANCE_COLUMNS = [
    "dataset",
    "items",
    "relevant",
    "flagged",
    "tp",
    "fp",
    "fn",
    "precision",
    "recall",
    "f1",
]
GROUPING_COLUMNS = [
    "dataset",
    "items",
    "incidents",
    "groups",
    "true_pairs",
    "predicted_pairs",
    "correct_pairs",
    "precision",
    "recall",
    "f1",
]

data_option = click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=Path("../shared"),
    show_default=True,
    help="The shared data folder (holding aiid_data/) or the real-reports JSON-lines file.",
)


@click.group("eval")
def eval_group() -> None:
    """Measure the relevance filter and the grouping of reports on real and labelled data."""


@eval_group.command("relevance")
@data_option
@click.option(
    "--mix",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Labelled news mix, JSON lines of {title, text, relevant, kind} "
    "(default: the shipped data/relevance/eval_mix.jsonl).",
)
@format_option
def relevance(data: Path, mix: Path | None, fmt: str) -> None:
    """Recall on real incident reports; precision and recall on a labelled AI-news mix."""
    from ingest.relevance import evaluate_relevance, load_default_filter

    flt = load_default_filter()
    rows = [asdict(r) for r in evaluate_relevance(data, mix=mix, relevance_filter=flt)]
    title = f"Relevance filter {flt.name} {flt.version} (threshold {flt.threshold})"
    output_rows(rows, fmt, RELEVANCE_COLUMNS, title=title)


@eval_group.command("grouping")
@data_option
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Join threshold.")
@click.option("--window-days", type=click.IntRange(min=0), default=None, help="Date window.")
@click.option(
    "--entity-weight", type=click.FloatRange(min=0), default=None, help="Weight of shared names."
)
@format_option
def grouping(
    data: Path,
    threshold: float | None,
    window_days: int | None,
    entity_weight: float | None,
    fmt: str,
) -> None:
    """Pairwise precision, recall and F1 of the online grouping on real linked reports."""
    from ingest.grouping import Grouper, evaluate_grouping

    options = {
        "threshold": threshold,
        "window_days": window_days,
        "entity_weight": entity_weight,
    }
    grouper = Grouper(**{k: v for k, v in options.items() if v is not None})  # type: ignore[arg-type]
    rows = [asdict(r) for r in evaluate_grouping(data, grouper=grouper)]
    title = (
        f"Grouping (threshold {grouper.threshold}, entity weight {grouper.entity_weight}, "
        f"window {grouper.window_days} days)"
    )
    output_rows(rows, fmt, GROUPING_COLUMNS, title=title)
