"""`incidentdb label`: record human failure-mode labels (they win over classifiers)."""

from __future__ import annotations

from pathlib import Path

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import format_option, output_rows

COLUMNS = ["what", "count"]


class _LabelGroup(click.Group):
    """`label ID --add …` and `label import FILE` side by side: a number is an incident id."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].lstrip("-").isdigit() and args[0] not in self.commands:
            args = ["set", *args]
        return super().parse_args(ctx, args)


_author = click.option(
    "--author", help="Who decided (default: $INCIDENTDB_AUTHOR or the login name)."
)


@click.group(cls=_LabelGroup, invoke_without_command=False)
def label() -> None:
    """Human failure-mode labels: `label ID --add MODE --remove MODE`, `label import FILE`."""


@label.command("set")
@click.argument("incident_id", type=int)
@click.option("--add", "add", multiple=True, metavar="LABEL", help="A label that applies.")
@click.option("--remove", "remove", multiple=True, metavar="LABEL", help="A label that does not.")
@_author
@format_option
@pass_app
def set_(
    app: AppContext,
    incident_id: int,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    author: str | None,
    fmt: str,
) -> None:
    """Record that labels apply (--add) or do not (--remove) to incident ID."""
    from taxonomy import label_incident

    result = label_incident(app.store(), incident_id, add=add, remove=remove, author=author)
    output_rows([{"what": k, "count": v} for k, v in result.items()], fmt, COLUMNS)


@label.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_author
@format_option
@pass_app
def import_(app: AppContext, file: Path, author: str | None, fmt: str) -> None:
    """Import human labels from JSONL: {"incident_id": N, "labels": [...]} a line.

    Each line decides all five modes of its incident: listed ones apply, the others do not.
    """
    from taxonomy import import_labels

    result = import_labels(app.store(), file, author=author)
    output_rows([{"what": k, "count": v} for k, v in result.items()], fmt, COLUMNS)
