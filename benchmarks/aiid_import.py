"""Import the 2026 AIID snapshot with `aiid.v1` and compare with `sqlite-utils insert`.

Each repeat builds fresh databases in a temporary folder and times, in turn:

- ``incidentdb ingest aiid``: our CLI in a new process (the full import: incidents, entities,
  classifications of every namespace, duplicates, submissions, quickadd);
- ``Store(url).ingest("aiid.v1", …)`` in this process: the same import without interpreter
  start-up, also split into schema creation and the ingest itself;
- ``sqlite-utils insert DB incidents incidents.csv --csv``: the bare incidents table, with the
  real sqlite-utils CLI in a new process (what a researcher would reach for).

Both CLIs are started from the console scripts next to this interpreter (not through a pyenv
shim, whose start-up would be counted against them). Goal (issue 2): ours ≤ 2 × sqlite-utils.

Besides wall time, each run's CPU time (user + system) is measured: of the child process for
the CLIs (``os.wait4``), of this process for the library. On a shared machine the wall times
grow with the load average (printed with the figures); the CPU times much less.

``--base PATH`` also runs another ``incidentdb`` console script (say, one installed from a
checkout of main) in every repeat, alternating with ours, so that both see the same load.

Python compiles a module it imports from a checkout on every start when it may not write
``__pycache__`` (``PYTHONDONTWRITEBYTECODE``), while an installed wheel and sqlite-utils carry
their bytecode. The script prints which case it measured; ``--compile`` writes the bytecode of
the CLIs' packages first (as ``pip install`` does), so that the comparison is like for like.

Usage::

    python benchmarks/aiid_import.py [--data FOLDER] [--repeat 5] [--base PATH] [--compile]
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import check_code_unchanged, code_state, machine, median_min, print_table

from incidentdb import SILENT, Store

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "aiid_data"
    / "TanviPatel9722+AI-incident-snapshot"
    / "data"
)
BIN = Path(sys.executable).parent


def _script(name: str) -> list[str]:
    # Next to this interpreter, else next to the one a virtual environment was made from.
    for folder in (BIN, Path(sys.base_prefix) / "bin"):
        if (folder / name).exists():
            return [str(folder / name)]
    return [sys.executable, "-m", name.replace("-", "_")]


def _run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of `command` in a new process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return wall, usage.ru_utime + usage.ru_stime


def _compile_bytecode(script: list[str]) -> None:
    """Write the bytecode of the packages the console script `script` imports from."""
    python = script[0]
    if len(script) == 1:  # a console script: its interpreter is on the first line
        with open(script[0], encoding="utf-8") as handle:
            python = handle.readline().removeprefix("#!").strip()
    code = (
        "import compileall, os, importlib\n"
        "for name in ('incidentdb', 'ingest'):\n"
        "    folder = os.path.dirname(importlib.import_module(name).__file__)\n"
        "    compileall.compile_dir(folder, quiet=1)\n"
    )
    subprocess.run([python, "-c", code], check=True)


def _bytecode_cached(script: list[str]) -> str:
    python = script[0]
    if len(script) == 1:
        with open(script[0], encoding="utf-8") as handle:
            python = handle.readline().removeprefix("#!").strip()
    code = (
        "import importlib.util, os, incidentdb._store as m\n"
        "print(os.path.exists(importlib.util.cache_from_source(m.__file__)))"
    )
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    return "cached" if out.stdout.strip() == "True" else "compiled on every start"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="snapshot folder")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--base", type=Path, help="another incidentdb console script, run alternately with ours"
    )
    parser.add_argument(
        "--compile", action="store_true", help="write the CLIs' bytecode first (as pip does)"
    )
    args = parser.parse_args(argv)
    data: Path = args.data
    if not (data / "incidents.csv").exists():
        print(f"skipped: no AIID snapshot at {data} (needs incidents.csv)")
        return 0

    with (data / "incidents.csv").open(newline="", encoding="utf-8") as handle:
        csv_rows = sum(1 for _ in csv.DictReader(handle))
    root = Path(__file__).resolve().parents[1]
    code = code_state(root)
    info = machine()
    ours = _script("incidentdb")
    base = [str(args.base)] if args.base else None
    clis = [ours, *([base] if base else [])]
    if args.compile:
        for script in clis:
            _compile_bytecode(script)
    print(f"AIID import benchmark: {data}")
    print(
        f"machine: {info['cpu']}, {info['nproc']} cores; Python {info['python']}; "
        f"SQLite {info['sqlite']}; {args.repeat} repeats, fresh databases each"
    )

    print(
        f"PYTHONDONTWRITEBYTECODE: {os.environ.get('PYTHONDONTWRITEBYTECODE') or 'unset'}; "
        + "; ".join(f"{script[0]}: bytecode {_bytecode_cached(script)}" for script in clis)
    )

    times: dict[str, list[float]] = {
        "base_cli": [],
        "ours_cli": [],
        "ours_lib": [],
        "ours_schema": [],
        "ours_ingest": [],
        "sqlite_utils": [],
    }
    cpu: dict[str, list[float]] = {key: [] for key in times}
    loads = [_load()]
    counts: dict[str, dict[str, int]] = {}
    sqlite_utils_rows = 0
    for repeat in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="incidentdb-bench-") as tmp:
            folder = Path(tmp)
            # Base and ours take turns going first, so neither always follows sqlite-utils.
            turns = [("ours_cli", ours), *([("base_cli", base)] if base else [])]
            if repeat % 2:
                turns.reverse()
            for key, script in turns:
                cli_db = folder / f"{key}.db"
                command = [*script, "--db", f"sqlite:///{cli_db}", "--quiet", "ingest", "aiid"]
                _record(times, cpu, key, *_run([*command, str(data)]))

            started, cpu_started = time.perf_counter(), time.process_time()
            store = Store(f"sqlite:///{folder / 'ours-lib.db'}")
            schema_done, cpu_schema_done = time.perf_counter(), time.process_time()
            result = store.ingest("aiid.v1", str(data), progress=SILENT)
            finished, cpu_finished = time.perf_counter(), time.process_time()
            store.close()
            if result.outcome != "succeeded":
                raise SystemExit(f"our import did not succeed: {result.outcome}")
            counts = result.counts
            _record(times, cpu, "ours_lib", finished - started, cpu_finished - cpu_started)
            _record(times, cpu, "ours_schema", schema_done - started, cpu_schema_done - cpu_started)
            _record(
                times, cpu, "ours_ingest", finished - schema_done, cpu_finished - cpu_schema_done
            )

            su_db = folder / "sqlite-utils.db"
            _record(
                times,
                cpu,
                "sqlite_utils",
                *_run(
                    [
                        *_script("sqlite-utils"),
                        "insert",
                        str(su_db),
                        "incidents",
                        str(data / "incidents.csv"),
                        "--csv",
                    ]
                ),
            )
            loads.append(_load())
            with sqlite3.connect(su_db) as conn:
                sqlite_utils_rows = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]

    print(f"code: commit {code['commit']}, changed files {code['dirty'] or 'none'}")
    check_code_unchanged(root, code)
    print()
    print("What our import wrote (one run):")
    print_table(
        ["kind", "added", "updated", "unchanged", "other"],
        [
            [
                kind,
                c.get("added", 0),
                c.get("updated", 0),
                c.get("unchanged", 0),
                ", ".join(
                    f"{k} {v}" for k, v in c.items() if k not in ("added", "updated", "unchanged")
                ),
            ]
            for kind, c in counts.items()
        ],
    )
    print(f"sqlite-utils loaded {sqlite_utils_rows} incident rows (incidents.csv has {csv_rows})")
    print()

    print(f"load average (1, 5, 15 min) before and after each repeat: {'; '.join(loads)}")
    su_median = median_min(times["sqlite_utils"])[0]
    su_cpu = median_min(cpu["sqlite_utils"])[0]
    labels = {
        "base_cli": f"base: {args.base} (CLI, new process)",
        "ours_cli": "incidentdb ingest aiid (CLI, new process)",
        "ours_lib": "Store() + ingest (library, in process)",
        "ours_schema": "  of which: Store() creating the schema",
        "ours_ingest": "  of which: ingest",
        "sqlite_utils": "sqlite-utils insert --csv (CLI, new process)",
    }
    rows = []
    for key, label in labels.items():
        if not times[key]:
            continue
        med, low = median_min(times[key])
        cpu_med = median_min(cpu[key])[0]
        rows.append([label, med, low, f"{med / su_median:.2f}", cpu_med, f"{cpu_med / su_cpu:.2f}"])
    print_table(
        ["run", "median s", "min s", "ratio (median)", "median CPU s", "CPU ratio (median)"],
        rows,
    )
    cli_ratio = median_min(times["ours_cli"])[0] / su_median
    cli_cpu_ratio = median_min(cpu["ours_cli"])[0] / su_cpu
    verdict = "met" if cli_ratio <= 2 else "NOT met"
    print()
    print(f"goal ours/sqlite-utils <= 2 (CLI vs CLI, medians): {cli_ratio:.2f} -> {verdict}")
    print(f"the same in CPU time (user + system): {cli_cpu_ratio:.2f}")
    if base:
        base_ratio = median_min(times["base_cli"])[0] / su_median
        base_cpu_ratio = median_min(cpu["base_cli"])[0] / su_cpu
        print(f"base in the same runs: {base_ratio:.2f} wall, {base_cpu_ratio:.2f} CPU")
    print(
        "all runs (s): "
        + "; ".join(f"{k} {[round(t, 3) for t in v]}" for k, v in times.items() if v)
    )
    print(
        "all runs (CPU s): "
        + "; ".join(f"{k} {[round(t, 3) for t in v]}" for k, v in cpu.items() if v)
    )
    return 0


def _record(
    times: dict[str, list[float]], cpu: dict[str, list[float]], key: str, wall: float, used: float
) -> None:
    times[key].append(wall)
    cpu[key].append(used)


if __name__ == "__main__":
    raise SystemExit(main())
