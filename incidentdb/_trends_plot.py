"""Draw a :class:`~incidentdb._trends.Trends` as a chart a reader takes in at a glance.

matplotlib's object API (a ``Figure`` with its own Agg canvas) rather than ``pyplot``: no global
state, no GUI backend to pick, safe in a server or a test run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from incidentdb._errors import QueryError
from incidentdb._trends import Trends, period_labels

__all__ = ["PLOT_STYLES", "plot_trends", "top_groups"]

PLOT_STYLES = ("stacked", "lines")
PLOT_SUFFIXES = (".png", ".svg")
OTHER = "Other"
_BY_TITLES = {
    "failure_mode": "failure mode",
    "technique": "technique",
    "deployer": "deployer",
    "developer": "developer",
    "harmed": "harmed party",
}


def top_groups(trends: Trends, top: int) -> tuple[list[str], dict[str, dict[str, int]]]:
    """The `top` largest groups and the rest summed as "Other": (groups, {group: {period: n}}).

    Groups are ordered by their total, largest first (ties by name), "Other" last.
    """
    totals: dict[str, int] = {}
    series: dict[str, dict[str, int]] = {}
    for row in trends.rows:
        group = str(row["group"])
        totals[group] = totals.get(group, 0) + row["incidents"]
    ranked = sorted(totals, key=lambda g: (-totals[g], g))
    kept = set(ranked[:top])
    for row in trends.rows:
        group = str(row["group"]) if str(row["group"]) in kept else OTHER
        per_period = series.setdefault(group, {})
        per_period[row["period"]] = per_period.get(row["period"], 0) + row["incidents"]
    groups = ranked[:top] + ([OTHER] if len(ranked) > top else [])
    return groups, series


def plot_trends(trends: Trends, path: str | Path, *, style: str = "stacked", top: int = 8) -> Path:
    """Write a PNG or SVG chart of `trends` to `path` (the suffix picks the format).

    Stacked bars (or one line per group) over every period from the first to the last with an
    incident, the `top` largest groups named and the rest as "Other"; axes labelled; a title; a
    legend; and a source line with the snapshot date, the number of incidents, and how many are
    unclassified or undated (those two are not drawn).

    Raises:
        QueryError: an unknown style or file suffix, or nothing to draw.
    """
    path = Path(path)
    if style not in PLOT_STYLES:
        raise QueryError(f"unknown chart style {style!r}", hint="Styles: stacked, lines.")
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise QueryError(
            f"cannot draw a chart into {path.name!r}", hint="Name a .png or .svg file."
        )
    if not trends.rows:
        raise QueryError(
            f"no incident in range has a {trends.by}: nothing to draw",
            hint="Widen --since/--until or the filters, or classify the incidents first.",
        )
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from matplotlib.ticker import MaxNLocator

    groups, series = top_groups(trends, top)
    periods = sorted({row["period"] for row in trends.rows})
    labels = period_labels(periods[0], periods[-1], trends.period)
    x = list(range(len(labels)))

    # The source line sits under the axes: h_pad leaves room for it.
    fig = Figure(figsize=(11, 6), dpi=120, layout=ConstrainedLayoutEngine(h_pad=0.25))
    ax = fig.add_subplot()
    colours = _colours(groups)
    if style == "stacked":
        bottom = [0] * len(labels)
        for group, colour in zip(groups, colours, strict=True):
            heights = [series[group].get(p, 0) for p in labels]
            ax.bar(x, heights, bottom=bottom, label=group, color=colour, width=0.8)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    else:
        for group, colour in zip(groups, colours, strict=True):
            ax.plot(
                x,
                [series[group].get(p, 0) for p in labels],
                label=group,
                color=colour,
                marker="o" if len(labels) <= 40 else None,
                linewidth=1.8,
            )
    ax.set_xticks(
        x,
        labels,
        rotation=45 if len(labels) > 12 else 0,
        ha="right" if len(labels) > 12 else "center",
    )
    _thin_ticks(ax, labels)
    ax.set_xlabel(trends.period.capitalize())
    ax.set_ylabel("Incidents")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(_title(trends), loc="left", fontsize=13, fontweight="bold")
    handles, names = ax.get_legend_handles_labels()
    if style == "stacked":
        # Top of the legend = top of the stack.
        handles, names = handles[::-1], names[::-1]
    by_title = _by_title(trends.by)
    ax.legend(
        handles,
        names,
        title=by_title[:1].upper() + by_title[1:],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=9,
    )
    fig.text(0.0, 0.0, _source_line(trends), ha="left", va="bottom", fontsize=8, color="#555555")
    path.parent.mkdir(parents=True, exist_ok=True)
    from matplotlib import rc_context

    # SVG text stays text (not outlines), so a chart can be edited and searched in a paper.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "incidentdb"}):
        fig.savefig(path, metadata=_metadata(path))
    return path


def _colours(groups: list[str]) -> list[Any]:
    from matplotlib import colormaps

    named = [g for g in groups if g != OTHER]
    palette = colormaps["tab10" if len(named) <= 10 else "tab20"]
    # "Other" in grey, so the named groups stand out.
    return [
        (0.7, 0.7, 0.7, 1.0) if g == OTHER else palette(i % palette.N) for i, g in enumerate(groups)
    ]


def _thin_ticks(ax: Any, labels: list[str]) -> None:
    """At most about 24 tick labels, so that month labels over years stay legible."""
    step = max(1, -(-len(labels) // 24))
    for i, tick in enumerate(ax.get_xticklabels()):
        tick.set_visible(i % step == 0)


def _by_title(by: str) -> str:
    if by.startswith("taxonomy:"):
        return by.removeprefix("taxonomy:").replace(":", " ")
    return _BY_TITLES.get(by, by)


def _title(trends: Trends) -> str:
    title = f"AI incidents per {trends.period} by {_by_title(trends.by)}"
    if trends.since or trends.until:
        start = trends.since.isoformat() if trends.since else "…"
        end = trends.until.isoformat() if trends.until else "…"
        title += f", {start} to {end}"
    filters = "; ".join(f"{k} = {v}" for k, values in trends.where.items() for v in values)
    if filters:
        title += f"\n({filters})"
    return title


def _source_line(trends: Trends) -> str:
    snapshot = (
        f"AIID snapshot of {trends.snapshot_date.isoformat()}"
        if trends.snapshot_date
        else "no dated snapshot"
    )
    return (
        f"Source: incidentdb, {snapshot}. {trends.incidents:,} incidents in range; "
        f"{trends.unclassified:,} without a {_by_title(trends.by)} and {trends.undated:,} "
        "without a date are not drawn. An incident with several groups counts in each."
    )


def _metadata(path: Path) -> dict[str, Any]:
    # No creation date in the file, so the same data gives the same chart bytes.
    if path.suffix.lower() == ".svg":
        return {"Date": None}
    return {"Software": "incidentdb"}
