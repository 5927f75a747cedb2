"""AVID import and report filling: how long the compliance paths take, on SQLite.

Times, each on a fresh SQLite store in a temporary folder:

- ``Store.ingest("avid.v1", FOLDER, lenient=True)`` of the real AVID fixtures (18 files), and
  the re-import that finds nothing to change;
- the same folder's documents repeated N times as a garak ``*.avid.jsonl`` (ids derived from
  content, so every line is a new incident) to see how the import scales;
- ``Store.report("eu-ai-act.v1", "C-1")`` and ``Store.report("oecd.v1", "C-1")`` plus Markdown
  rendering, for one company incident.

Usage::

    python benchmarks/compliance.py [--avid ../shared/avid-fixtures] [--repeat 5] [--copies 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import machine, median_min, print_table, time_calls

from incidentdb import Store
from incidentdb._company import load_company_incident
from incidentdb._reports import render_markdown

ROOT = Path(__file__).resolve().parent.parent
COMPANY = ROOT / "tests" / "incidentdb" / "reports" / "company_incident.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avid", type=Path, default=ROOT.parent / "shared" / "avid-fixtures")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copies", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(machine()))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def fresh() -> Store:
            return Store(f"sqlite:///{folder / (uuid.uuid4().hex + '.sqlite')}")

        stores: list[Store] = []

        def first_import() -> None:
            store = fresh()
            stores.append(store)
            store.ingest("avid.v1", str(args.avid), lenient=True)

        seconds = time_calls(first_import, args.repeat)
        rows.append(("avid.v1, 18 real files, new store", len(seconds), *median_min(seconds)))
        again = stores[-1]
        seconds = time_calls(lambda: again.ingest("avid.v1", str(args.avid), lenient=True), 5)
        rows.append(("avid.v1, same files again (unchanged)", 5, *median_min(seconds)))

        docs = [
            json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(args.avid.glob("*__AVID-*.json"))
        ]
        jsonl = folder / "big.avid.jsonl"
        with jsonl.open("w", encoding="utf-8") as out:
            for copy in range(args.copies):
                for doc in docs:
                    line = {k: v for k, v in doc.items() if k != "metadata"}
                    line["credit"] = [{"lang": "eng", "value": f"copy {copy}"}]
                    out.write(json.dumps(line) + "\n")
        lines = args.copies * len(docs)
        seconds = time_calls(
            lambda: fresh().ingest("avid.v1", str(jsonl), lenient=True), 3, warmup=0
        )
        median, best = median_min(seconds)
        # CPU seconds too: wall time on a shared machine waits for other people's processes.
        cpu = time.process_time()
        fresh().ingest("avid.v1", str(jsonl), lenient=True)
        cpu = time.process_time() - cpu
        rows.append((f"avid.v1, garak jsonl of {lines:,} documents", 3, median, best))
        rows.append(
            (
                f"  CPU per document (ms), {lines:,} documents",
                1,
                cpu / lines * 1e3,
                cpu / lines * 1e3,
            )
        )
        rows.append(
            (
                f"  per document (ms), {lines:,} documents",
                3,
                median / lines * 1e3,
                best / lines * 1e3,
            )
        )

        store = fresh()
        store.add_company_incident(load_company_incident(COMPANY))
        for template in ("eu-ai-act.v1", "oecd.v1"):
            seconds = time_calls(
                lambda t=template: render_markdown(store.report(t, "C-1")), args.repeat * 20
            )
            rows.append((f"report {template} C-1, Markdown", len(seconds), *median_min(seconds)))
        for s in [*stores, store]:
            s.close()
    print_table(["what", "runs", "median s", "min s"], rows)


if __name__ == "__main__":
    main()
