"""Throughput and peak memory of the default failure-mode classifier over the 2026 snapshot.

Imports the snapshot into a temporary SQLite store, loads (or builds) the default classifier,
then times, on one core (BLAS and OpenMP threads pinned to 1 before numpy is imported):

- ``tag``: the classifier alone over the texts of every incident (rules, features, models,
  evidence), after one untimed warm-up run;
- ``classify``: the library call end to end on a fresh copy of the store, reading incidents,
  tagging them and writing the rows (one transaction per batch);
- ``classify again``: the idempotent re-run, which reads and skips.

Each step reports wall time and the CPU time of this process (``time.process_time``): on a
machine shared with other work the CPU figure is the fairer measure of one core's speed.
Peak memory is the process's maximum resident set size at the end (``ru_maxrss``), which
includes the import and the classifier build when the cache was cold.
Goals (issue 4): at least 1,000 incidents/s on one core; peak memory under 1 GB.

Usage::

    python benchmarks/classify.py [--data FOLDER] [--repeat 3]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from _util import machine, median_min, print_table  # noqa: E402

from incidentdb import SILENT, Store  # noqa: E402
from taxonomy import classify, default_classifier  # noqa: E402
from taxonomy._classify import incident_text  # noqa: E402

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "aiid_data"
    / "TanviPatel9722+AI-incident-snapshot"
    / "data"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="snapshot folder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"snapshot not found: {args.data}", file=sys.stderr)
        return 1
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.sqlite"
        with Store(f"sqlite:///{base}") as store:
            store.ingest("aiid.v1", str(args.data))
            texts = [incident_text(i) for batch in store.incident_texts() for i in batch]
        started = time.perf_counter()
        classifier = default_classifier()
        load_seconds = time.perf_counter() - started

        classifier.tag(texts)  # warm-up
        tag_times: list[tuple[float, float]] = []
        for _ in range(args.repeat):
            started, cpu = time.perf_counter(), time.process_time()
            classifier.tag(texts)
            tag_times.append((time.perf_counter() - started, time.process_time() - cpu))

        run_times: list[tuple[float, float]] = []
        rerun_times: list[tuple[float, float]] = []
        for i in range(args.repeat):
            copy = Path(tmp) / f"run{i}.sqlite"
            shutil.copy(base, copy)
            with Store(f"sqlite:///{copy}") as store:
                started, cpu = time.perf_counter(), time.process_time()
                result = classify(store, classifier, progress=SILENT)
                run_times.append((time.perf_counter() - started, time.process_time() - cpu))
                started, cpu = time.perf_counter(), time.process_time()
                again = classify(store, classifier, progress=SILENT)
                rerun_times.append((time.perf_counter() - started, time.process_time() - cpu))
            assert again.classified == 0 and again.rows == 0
    n = len(texts)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    info = machine()
    print(f"machine: {info}")
    print(f"snapshot: {args.data} ({n} incidents)")
    print(f"classifier: {classifier.name} {classifier.version_} (load/build {load_seconds:.2f} s)")
    print(f"tagged: {result.by_mode}, none {result.untagged}; rows written {result.rows}")
    rows = []
    for name, times in (
        ("tag (classifier only)", tag_times),
        ("classify (read, tag, write)", run_times),
        ("classify again (skips)", rerun_times),
    ):
        median, best = median_min([wall for wall, _ in times])
        cpu_median, _ = median_min([cpu for _, cpu in times])
        rows.append(
            [
                name,
                round(median, 3),
                round(best, 3),
                round(n / median),
                round(cpu_median, 3),
                round(n / cpu_median),
            ]
        )
    print_table(["step", "median s", "min s", "incidents/s", "CPU s", "incidents/CPU-s"], rows)
    print("(wall figures suffer when other processes share the core; CPU-s count only ours)")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
