"""Throughput of the relevance filter and the grouper.

- build: seconds to fit the default filter from ``data/relevance/`` (done once per process);
- feed entries: ``RelevanceFilter.score_many`` on ``--entries`` feed-sized entries (a title and a
  two- or three-sentence summary, about 300 characters), made by recombining the shipped
  example sentences so no two entries are the same;
- real reports: the same on the real AIID report texts in ``../shared`` when present (full
  articles, read up to ``max_chars``);
- grouping: ``Grouper.cluster`` on those real reports, and feed ingestion's grouping step:
  ``--decisions`` entries each decided (``Grouper.decide``) against ``--candidates`` candidate
  incidents, unfitted (IDF from the candidates at each call, as before) and fitted as the feed
  pipeline does (``Grouper.fit_if_grown``: IDF learned once, candidate vectors cached); the
  per-entry cost in wall and CPU milliseconds.

Usage::

    python benchmarks/relevance.py [--entries 5000] [--candidates 1000] [--decisions 200]
                                   [--shared ../shared]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import time
from pathlib import Path

import spacy

from incidentdb._data import bundled_data
from ingest.grouping import Grouper, GroupingItem, extract_entities
from ingest.relevance import build_default_filter, read_examples
from ingest.relevance._realdata import read_real_reports


def feed_entries(count: int, seed: int = 7) -> list[tuple[str, str]]:
    examples = read_examples(bundled_data("relevance", "train.jsonl")) + read_examples(
        bundled_data("relevance", "eval_mix.jsonl")
    )
    sentences = [s.strip() + "." for e in examples for s in e.text.split(". ") if s.strip()]
    rng = random.Random(seed)
    return [
        (rng.choice(examples).title, " ".join(rng.sample(sentences, rng.choice((2, 3)))))
        for _ in range(count)
    ]


def rate(label: str, count: int, seconds: float, unit: str = "entries") -> None:
    print(f"{label:<44} {count:>7} {unit:<8} {seconds:8.2f} s  {count / seconds:10.0f} {unit}/s")


def cpu_rate(label: str, count: int, cpu_seconds: float) -> None:
    # CPU seconds of this process: on a shared, loaded machine wall time mostly measures the
    # neighbours; CPU time is what the work costs.
    print(
        f"{label:<44} {count:>7} entries  {cpu_seconds:8.2f} s  {count / cpu_seconds:10.0f} /CPU-s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    args = parser.parse_args()

    started = time.perf_counter()
    flt = build_default_filter()
    print(f"{'build the default filter':<44} {time.perf_counter() - started:24.2f} s")

    entries = feed_entries(args.entries)
    chars = sum(len(t) + len(x) for t, x in entries) / len(entries)
    flt.score_many(entries[:200])  # warm the vocabulary as a long-running ingest would be
    started, cpu = time.perf_counter(), time.process_time()
    verdicts = flt.score_many(entries)
    rate(f"score feed entries (~{chars:.0f} chars)", len(entries), time.perf_counter() - started)
    cpu_rate("  in CPU time", len(entries), time.process_time() - cpu)
    print(f"{'  of which relevant':<44} {sum(v.relevant for v in verdicts):>7}")
    # The floor: spaCy's tokenizer alone on the same texts (the machine's speed, for scale).
    nlp = spacy.blank("en")
    started, cpu = time.perf_counter(), time.process_time()
    for _ in nlp.pipe(f"{t}\n{t}\n\n{x}" for t, x in entries):
        pass
    rate("  tokenise only (spaCy blank English)", len(entries), time.perf_counter() - started)
    cpu_rate("  in CPU time", len(entries), time.process_time() - cpu)

    real_path = args.shared / "aiid_data/derived/real_report_texts.jsonl"
    if not real_path.is_file():
        print(f"(no real reports at {real_path}: skipped the real-data figures)")
        return
    reports = [r for r in read_real_reports(real_path) if (r.title or r.text).strip()]
    items = [(r.title, r.text) for r in reports]
    chars = sum(min(len(x), flt.max_chars) + len(t) for t, x in items) / len(items)
    started = time.perf_counter()
    flt.score_many(items)
    rate(f"score real reports (~{chars:.0f} chars read)", len(items), time.perf_counter() - started)

    started = time.perf_counter()
    grouping = [
        GroupingItem(r.id, r.title, r.text, entities=extract_entities(f"{r.title}\n{r.text}"))
        for r in reports
    ]
    rate("extract entities of real reports", len(grouping), time.perf_counter() - started)
    grouper = Grouper()
    started = time.perf_counter()
    grouper.cluster(grouping)
    rate("cluster real reports (online)", len(grouping), time.perf_counter() - started)
    # Feed ingestion: each new relevant entry decides against the store's candidates. The
    # candidates are the real reports again, each copy its own incident (distinct keys).
    candidates = [
        dataclasses.replace(grouping[i % len(grouping)], key=i) for i in range(args.candidates)
    ]
    stream = [grouping[i % len(grouping)] for i in range(args.decisions)]
    print(
        f"feed ingestion: {len(stream)} entries, each decided against "
        f"{len(candidates)} candidate incidents"
    )
    for label, fit in (("unfitted Grouper (before)", False), ("fitted once per run (after)", True)):
        grouper = Grouper()
        started, cpu = time.perf_counter(), time.process_time()
        for item in stream:
            if fit:
                grouper.fit_if_grown(candidates)  # what the feed pipeline does
            grouper.decide(item, candidates)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"  {label:<42} {1000 * seconds / len(stream):8.2f} ms/entry wall "
            f"{1000 * cpu_seconds / len(stream):8.2f} ms/entry CPU"
        )
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
