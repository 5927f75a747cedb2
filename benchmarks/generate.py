"""Generate and export a suite for every classified incident of the 2026 AIID snapshot.

Builds a SQLite store from the snapshot in a temporary folder, gives every incident failure-mode
labels, then times, in one process (one core), both in CPU seconds of this process (what
the goal is about; other work on a shared machine does not inflate it) and in wall seconds:

- ``generate``: ``generate_suite`` for every labelled incident (read, extract, build, mutate,
  save), reported as cases per second;
- ``export <harness>``: each of the six exporters writing the stored suite;
- ``generate + export``: the sum, as cases per second (goal of issue 5: >= 500/s).

The failure-mode classifier is written in parallel and not in this branch, so the labels are
SYNTHETIC: classifier-shaped rows (``source_kind = "model"``) whose modes and techniques are
drawn from a hash of the incident id (1 to 2 modes each, a technique for most). They exercise
every builder on real incident titles and descriptions; they are not a classification.
That snapshot copy has no report texts (``reports.csv`` is missing), so extraction reads the
incident title and description only.

Usage::

    python benchmarks/generate.py [--data FOLDER] [--variants 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _util import machine, median_min, print_table
from sqlalchemy import insert, select

from generators import HARNESSES, export_suite, generate_suite
from incidentdb import Store
from incidentdb._labels import refresh_current_labels
from incidentdb._models import Classification, Incident, table_of

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "aiid_data"
    / "TanviPatel9722+AI-incident-snapshot"
    / "data"
)
MODES = ("multi_turn", "agentic", "distribution_shift", "adversarial", "misuse")
TECHNIQUES = {
    "multi_turn": "adversarial.jailbreak.crescendo",
    "agentic": "adversarial.prompt_injection.indirect",
    "distribution_shift": "distribution_shift.demographic_underrepresentation",
    "adversarial": "adversarial.jailbreak.role_play",
    "misuse": None,
}


def synthetic_labels(store: Store) -> int:
    """Insert classifier-shaped labels for every incident; returns how many incidents."""
    incidents = table_of(Incident)
    with store.engine.connect() as conn:
        pks = [pk for (pk,) in conn.execute(select(incidents.c.id).order_by(incidents.c.id))]
    rows = []
    created = dt.datetime(2026, 3, 1)
    for pk in pks:
        digest = hashlib.sha256(str(pk).encode()).digest()
        modes = [MODES[digest[0] % 5]]
        if digest[1] % 3 == 0:
            second = MODES[digest[2] % 5]
            if second not in modes:
                modes.append(second)
        techniques = [TECHNIQUES[m] for m in modes if TECHNIQUES[m] and digest[3] % 4]
        for attribute, values in (("mode", modes), ("technique", techniques)):
            for index, value in enumerate(values):
                rows.append(
                    {
                        "incident_pk": pk,
                        "namespace": "failure_modes",
                        "attribute": attribute,
                        "value": value,
                        "value_index": index,
                        "source_kind": "model",
                        "model_name": "synthetic-benchmark",
                        "model_version": "0",
                        "confidence": 0.9,
                        "author": None,
                        "created_at": created,
                    }
                )
    with store.engine.begin() as conn:
        conn.execute(insert(table_of(Classification)), rows)
        refresh_current_labels(conn)
    return len(pks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="snapshot folder")
    parser.add_argument("--variants", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"snapshot folder not found: {args.data}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        store.ingest("aiid.v1", str(args.data))
        labelled = synthetic_labels(store)
        # Loading spaCy and the taxonomy once is start-up, not per-case work.
        generate_suite(store, "warmup", incident_ids=[1])
        steps = ["generate", *(f"export {h}" for h in HARNESSES)]
        cpu: dict[str, list[float]] = {step: [] for step in steps}
        wall: dict[str, list[float]] = {step: [] for step in steps}
        cases = 0

        def timed(step: str, call: Callable[[], object]) -> object:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            value = call()
            cpu[step].append(time.process_time() - cpu0)
            wall[step].append(time.perf_counter() - wall0)
            return value

        for run in range(args.repeat):
            suite = f"bench{run}"
            result = timed(
                "generate",
                lambda s=suite, r=run: generate_suite(store, s, variants=args.variants, seed=r),
            )
            cases = result.cases  # type: ignore[attr-defined]
            for harness in HARNESSES:
                out = Path(tmp) / "out" / harness
                timed(
                    f"export {harness}",
                    lambda s=suite, h=harness, o=out: export_suite(store, s, h, o),
                )
        store.close()
    rows: list[list[object]] = []
    total_cpu = total_wall = 0.0
    for step in steps:
        cpu_median, _ = median_min(cpu[step])
        wall_median, _ = median_min(wall[step])
        total_cpu += cpu_median
        total_wall += wall_median
        rows.append([step, cpu_median, wall_median, cases / cpu_median])
    rows.append(["generate + every export", total_cpu, total_wall, cases / total_cpu])
    print(
        f"{labelled} incidents with synthetic labels, {cases} cases per suite "
        f"(--variants {args.variants}); median of {args.repeat} runs; machine: {machine()}"
    )
    print_table(["step", "CPU s", "wall s", "cases/CPU s"], rows)
    one = median_min(cpu["generate"])[0] + median_min(cpu["export jsonl"])[0]
    print(f"generate + one export (jsonl): {cases / one:,.0f} cases per CPU second (goal >= 500)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
