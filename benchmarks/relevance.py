"""Throughput of the relevance filter and the grouper.

- build: seconds to fit the default filter from ``data/relevance/`` (done once per process);
- feed entries: ``RelevanceFilter.score_many`` on ``--entries`` feed-sized entries (a title and a
  two- or three-sentence summary, about 300 characters), made by recombining the shipped
  example sentences so no two entries are the same;
- real reports: the same on the real AIID report texts in ``../shared`` when present (full
  articles, read up to ``max_chars``);
- grouping: ``Grouper.cluster`` on those real reports, and ``Grouper.decide`` for one report
  against ``--candidates`` candidates, unfitted (IDF from the candidates at each call) and
  fitted (``Grouper.fit``: IDF learned once, candidate vectors cached).

Usage::

    python benchmarks/relevance.py [--entries 5000] [--candidates 1000] [--shared ../shared]
"""

from __future__ import annotations

import argparse
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
    candidates = [grouping[i % len(grouping)] for i in range(args.candidates)]
    started = time.perf_counter()
    grouper.decide(grouping[0], candidates)
    seconds = time.perf_counter() - started
    label = "decide one report against candidates"
    print(f"{label:<44} {len(candidates):>7} cands    {seconds:8.2f} s")
    fitted = Grouper().fit(grouping)
    fitted.decide(grouping[0], candidates)  # vectorises and caches the candidates once
    started = time.perf_counter()
    for item in grouping[:20]:
        fitted.decide(item, candidates)
    seconds = (time.perf_counter() - started) / 20
    label = "  the same, fitted Grouper, cached vectors"
    print(f"{label:<44} {len(candidates):>7} cands    {seconds:8.2f} s")


if __name__ == "__main__":
    main()
