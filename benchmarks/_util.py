"""Small helpers shared by the benchmark scripts: timing and plain-text tables."""

from __future__ import annotations

import hashlib
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "check_code_unchanged",
    "code_state",
    "machine",
    "median_min",
    "print_table",
    "time_calls",
]


def time_calls(call: Callable[[], Any], repeat: int, warmup: int = 1) -> list[float]:
    """Seconds taken by each of `repeat` calls of `call`, after `warmup` untimed calls."""
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def median_min(values: Sequence[float]) -> tuple[float, float]:
    return statistics.median(values), min(values)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows as a plain, aligned table (numbers right-aligned) to stdout."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False
        for i in range(len(headers))
    ]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpu": cpu,
        "nproc": nproc,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def code_state(root: Path) -> dict[str, Any]:
    """The commit, the changed files, and a hash of the library's sources right now.

    Other people edit the code while benchmarks run; comparing this at the start and the end of a
    run tells whether every figure was measured on the same code.
    """

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    files = {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for package in ("incidentdb", "ingest")
        for path in sorted((root / package).rglob("*.py"))
    }
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": git("status", "--porcelain", "--", "incidentdb", "ingest").splitlines(),
        "files": files,
    }


def check_code_unchanged(root: Path, before: dict[str, Any]) -> dict[str, Any]:
    """Warn, naming the library files that changed since `before`; return the new state."""
    after = code_state(root)
    old, new = before["files"], after["files"]
    changed = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    if changed:
        print(
            f"WARNING: changed during this run ({before['commit']} -> {after['commit']}): "
            f"{', '.join(changed)}; the figures may mix two versions of these files."
        )
    return after
