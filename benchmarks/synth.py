"""Write a synthetic AIID snapshot folder in the real export format, of any size.

The layout and columns are those of an extracted official snapshot (``mongodump_full_snapshot/``,
see ``../shared/aiid_data/SOURCES.md``): mongoexport CSVs at the top (``incidents.csv``,
``reports.csv``, ``classifications_MIT.csv``, ``duplicates.csv``) and the mongodump collection
``aiidprod/entities.bson``. Every file is written row by row, so a million reports take no more
memory than ten.

Report text is about 500 characters of sentences drawn from a Zipf-weighted vocabulary with a
seeded ``random.Random``: full-text search sees realistic term frequencies. Three terms are
planted for the benchmarks, with known shares of the reports:

- ``COMMON_WORD`` ("algorithm") is among the most frequent content words (most reports);
- ``PHRASE`` ("facial recognition") is written as a two-word phrase into about 2 % of reports;
- ``RARE_WORD`` ("quokka") appears in about 1 report in 5,000.

Usage::

    python benchmarks/synth.py OUT --incidents 100000 --reports 1000000 [--seed 0]
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import itertools
import json
import random
import sys
import time
from pathlib import Path
from typing import Any, Final, TextIO

import bson

__all__ = ["COMMON_WORD", "PHRASE", "RARE_WORD", "write_snapshot"]

COMMON_WORD: Final = "algorithm"
PHRASE: Final = "facial recognition"
RARE_WORD: Final = "quokka"

INCIDENT_HEADER: Final = (
    "_id",
    "incident_id",
    "date",
    "reports",
    "Alleged deployer of AI system",
    "Alleged developer of AI system",
    "Alleged harmed or nearly harmed parties",
    "description",
    "title",
)
REPORT_HEADER: Final = (
    "_id",
    "incident_id",
    "authors",
    "date_downloaded",
    "date_modified",
    "date_published",
    "date_submitted",
    "description",
    "epoch_date_downloaded",
    "epoch_date_modified",
    "epoch_date_published",
    "epoch_date_submitted",
    "image_url",
    "language",
    "ref_number",
    "report_number",
    "source_domain",
    "submitters",
    "text",
    "title",
    "url",
    "tags",
)
MIT_HEADER: Final = (
    "Namespace",
    "Incident ID",
    "Published",
    "Risk Domain",
    "Risk Subdomain",
    "Entity",
    "Timing",
    "Intent",
)
DUPLICATE_HEADER: Final = ("duplicate_incident_number", "true_incident_number")


def _word_list(text: str) -> list[str]:
    """The words of `text` in order, each once (a repeat keeps its first rank)."""
    return list(dict.fromkeys(text.split()))


# Function words carry a fixed large weight; content words follow a Zipf law in list order, so
# the first ones ("algorithm", "system", ...) are in most reports and the last ones in few.
_FUNCTION_WORDS: Final = _word_list(
    "the of and to a in that is for on was with as by it at from its has have be an are were "
    "this which said not but after had also been more than or their they who when would could"
)
_CONTENT_WORDS: Final = _word_list(
    "algorithm system model data company users people police report software technology "
    "automated artificial intelligence researchers government decision public platform "
    "service customers safety video image images content social media online app accuracy "
    "vehicle driver tesla autopilot crash camera cameras surveillance privacy personal "
    "information chatbot language generated answers false claims lawsuit court judge "
    "regulators investigation federal agency officials city school students teachers "
    "hospital patients doctors medical health insurance credit loan bank financial fraud "
    "scam voice deepfake election political campaign misinformation news article journalists "
    "hiring recruitment candidates workers employees jobs bias biased discrimination racial "
    "gender women black minority communities children parents youtube facebook twitter "
    "amazon google microsoft openai apple meta robot robots delivery warehouse factory "
    "drone military weapons translation search results recommendation ranking advertising "
    "moderation filter flagged removed accounts banned error errors mistake failure failed "
    "wrong incorrect identified misidentified arrested wrongful detention prison sentencing "
    "risk score scores assessment predictive policing neighborhood residents complaint "
    "complaints apology statement spokesperson response update fixed tested training dataset "
    "benchmark engineers developers launched released deployed pilot program trial study "
    "found showed evidence experts critics advocates rights civil liberties transparency "
    "accountability oversight audit review ethics harm harms damage injury injured killed "
    "death pedestrian traffic road highway street passengers airline flight pilot autopilot "
    "aircraft boeing sensor sensors software update recall lawsuit settlement million "
    "dollars percent thousands hundreds months weeks years days yesterday week month year"
)
# Each rare word is dropped into about one report in `share`; the list gives searches of every
# selectivity, from a few hundred hits to a handful on a million reports.
_RARE_WORDS: Final = {
    RARE_WORD: 5_000,
    "zeitgeber": 20_000,
    "xylograph": 100_000,
    "palimpsest": 2_000,
    "quincunx": 50_000,
}
_PHRASE_SHARE: Final = 50
# With these weights about 60 % of the words are function words, "algorithm" is in most reports,
# and a word of rank 1,000 in about one report in 150.
_FUNCTION_WEIGHT: Final = 0.3
_TAIL_WORDS: Final = 20_000
_SYLLABLES: Final = _word_list(
    "ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko ku la le li lo lu ma me mi mo mu na "
    "ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za ze "
    "zi zo tra tre tri pro pre bra bri cla cre dro fla gre gri plo sta ste sti stro ven ton mar "
    "len dor gan rel nis tum"
)
_LANGUAGES: Final = ("en",) * 18 + ("es", "fr", "de", "ja")
_DOMAINS: Final = tuple(
    f"{name}.{tld}"
    for name, tld in itertools.product(
        (
            "dailynews",
            "techreview",
            "theherald",
            "worldpost",
            "citytimes",
            "wiredup",
            "ledger",
            "observer",
            "gazette",
            "chronicle",
            "bulletin",
            "dispatch",
        ),
        ("com", "org", "co.uk", "net"),
    )
)
_FIRST_NAMES: Final = _word_list(
    "Ana Ben Chloe David Elena Farid Grace Hiro Isabel James Kofi Lena Marco Nadia Omar Priya "
    "Quinn Rosa Sam Tariq Uma Victor Wen Xavier Yara Zoe"
)
_LAST_NAMES: Final = _word_list(
    "Smith Garcia Nguyen Okafor Müller Rossi Kim Patel Dubois Silva Cohen Ivanova Tanaka "
    "Johnson Haddad Larsen Novak Costa Mensah Brown"
)
_ORG_WORDS: Final = _word_list(
    "acme nova apex vertex orbit lumen quanta helix cobalt zenith summit atlas pioneer "
    "horizon sierra delta omega vector nimbus polar"
)
_ORG_KINDS: Final = _word_list(
    "labs robotics ai systems analytics health mobility bank media security"
)
_PARTIES: Final = _word_list(
    "drivers pedestrians students patients job-applicants black-people women children "
    "consumers citizens employees tenants voters passengers users"
)
_MIT_SUBDOMAINS: Final = (
    ("1. Discrimination and Toxicity", "1.1. Unfair discrimination and misrepresentation", 88),
    ("1. Discrimination and Toxicity", "1.2. Exposure to toxic content", 66),
    ("1. Discrimination and Toxicity", "1.3. Unequal performance across groups", 23),
    (
        "2. Privacy & Security",
        "2.1. Compromise of privacy by obtaining, leaking or correctly inferring sensitive "
        "information",
        58,
    ),
    ("2. Privacy & Security", "2.2. AI system security vulnerabilities and attacks", 12),
    ("3. Misinformation", "3.1. False or misleading information", 101),
    (
        "3. Misinformation",
        "3.2. Pollution of information ecosystem and loss of consensus reality",
        4,
    ),
    (
        "4. Malicious Actors & Misuse",
        "4.1. Disinformation, surveillance, and influence at scale",
        73,
    ),
    (
        "4. Malicious Actors & Misuse",
        "4.2. Cyberattacks, weapon development or use, and mass harm",
        6,
    ),
    ("4. Malicious Actors & Misuse", "4.3. Fraud, scams, and targeted manipulation", 189),
    ("5. Human-Computer Interaction", "5.1. Overreliance and unsafe use", 18),
    ("5. Human-Computer Interaction", "5.2. Loss of human agency and autonomy", 1),
    (
        "6. Socioeconomic & Environmental Harms",
        "6.2. Increased inequality and decline in employment quality",
        6,
    ),
    (
        "7. AI system safety, failures, and limitations",
        "7.1. AI pursuing its own goals in conflict with human goals or values",
        2,
    ),
    (
        "7. AI system safety, failures, and limitations",
        "7.3. Lack of capability or robustness",
        207,
    ),
    (
        "7. AI system safety, failures, and limitations",
        "7.4. Lack of transparency or interpretability",
        3,
    ),
)
_EPOCH_START: Final = dt.date(2012, 1, 1)
_DAY_RANGE: Final = (dt.date(2026, 2, 1) - _EPOCH_START).days


def _made_up_words(rng: random.Random, count: int) -> list[str]:
    """`count` distinct pronounceable non-words (none of them a real or planted word)."""
    taken = set(_FUNCTION_WORDS) | set(_CONTENT_WORDS) | set(_RARE_WORDS) | set(PHRASE.split())
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4)))
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


def _json_list(items: list[Any]) -> str:
    # mongoexport writes arrays as compact JSON.
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False)


def _object_id(kind: int, number: int) -> str:
    # 4-byte timestamp, then the collection kind and a counter: unique and stable per seed.
    return f"ObjectId({0x62000000 + number % 0x1000000:08x}{kind:04x}{number:012x})"


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


class _Text:
    """Sentences from a Zipf-weighted vocabulary, reproducible from the seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # Real news text has a vocabulary of tens of thousands of words, most of them rare; the
        # made-up tail gives the full-text index a realistic number of terms and posting lists.
        content = _CONTENT_WORDS + _made_up_words(rng, _TAIL_WORDS)
        zipf = [1.0 / (rank + 3) for rank in range(len(content))]
        self.words = _FUNCTION_WORDS + content
        self.cum = list(itertools.accumulate([_FUNCTION_WEIGHT] * len(_FUNCTION_WORDS) + zipf))
        self.content = content
        self.content_cum = list(itertools.accumulate(zipf))
        self.rare = [(word, 1.0 / share) for word, share in _RARE_WORDS.items()]

    def words_(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=k)

    def sentence(self, k: int) -> str:
        words = self.words_(k)
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def title(self) -> str:
        words = self.rng.choices(
            self.content, cum_weights=self.content_cum, k=self.rng.randint(4, 9)
        )
        return " ".join(w.capitalize() for w in words)

    def report_text(self) -> str:
        """About 500 characters: 5-8 sentences, sometimes in two paragraphs or with a quote."""
        rng = self.rng
        words = self.words_(rng.randint(80, 96))
        for word, p in self.rare:
            if rng.random() < p:
                words[rng.randrange(len(words))] = word
        if rng.random() < 1 / _PHRASE_SHARE:
            at = rng.randrange(len(words) - 1)
            words[at : at + 2] = PHRASE.split()
        if rng.random() < 0.1:
            at = rng.randrange(len(words) - 2)
            words[at] = '"' + words[at]
            words[at + 1] = words[at + 1] + '"'
        sentences = []
        start = 0
        while start < len(words):
            end = min(len(words), start + rng.randint(9, 17))
            chunk = words[start:end]
            sentences.append(chunk[0].capitalize() + " " + " ".join(chunk[1:]) + ".")
            start = end
        if len(sentences) > 3 and rng.random() < 0.3:
            half = len(sentences) // 2
            return " ".join(sentences[:half]) + "\n\n" + " ".join(sentences[half:])
        return " ".join(sentences)


def _entity_slugs(rng: random.Random, count: int) -> list[tuple[str, str]]:
    slugs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number in itertools.count(1):
        if len(slugs) >= count:
            break
        parts = [rng.choice(_ORG_WORDS), rng.choice(_ORG_KINDS)]
        slug = "-".join(parts)
        if slug in seen:
            slug = f"{slug}-{number}"
        seen.add(slug)
        slugs.append((slug, " ".join(p.capitalize() for p in parts)))
    slugs.extend((party, party.replace("-", " ").capitalize()) for party in _PARTIES)
    return slugs


def _write_entities(path: Path, entities: list[tuple[str, str]]) -> None:
    with path.open("wb") as out:
        for number, (slug, name) in enumerate(entities, 1):
            oid = bson.ObjectId(_object_id(5, number)[9:-1])
            out.write(bson.encode({"_id": oid, "entity_id": slug, "name": name}))


def _report_counts(rng: random.Random, incidents: int, reports: int) -> Any:
    """Reports per incident: skewed like AIID's (many with 1-3, a few with dozens), summing to
    `reports` exactly, every incident with at least one."""
    left = reports
    for done in range(incidents):
        remaining = incidents - done
        if remaining == 1:
            yield left
            return
        mean = left / remaining
        count = max(1, round(rng.expovariate(1 / mean))) if mean > 1 else 1
        count = min(count, left - (remaining - 1))
        left -= count
        yield count


def write_snapshot(root: Path, incidents: int, reports: int, seed: int = 0) -> dict[str, int]:
    """Write a snapshot folder with `incidents` incidents and `reports` reports under `root`.

    Args:
        root: the folder to create (its parents too); existing files in it are overwritten.
        incidents: number of incident rows in ``incidents.csv`` (ids 1..incidents).
        reports: number of rows in ``reports.csv`` (report numbers 1..reports); must be at least
            `incidents`, since every incident has a report.
        seed: the same seed writes byte-identical files.

    Returns:
        Row counts per file written.
    """
    if incidents < 1 or reports < incidents:
        raise ValueError("need at least one incident and at least one report per incident")
    rng = random.Random(seed)
    text = _Text(rng)
    root.mkdir(parents=True, exist_ok=True)
    (root / "aiidprod").mkdir(exist_ok=True)

    # Real snapshots have about two entities per incident; a Zipf pick of deployers makes the
    # "top deployers" list meaningful.
    entities = _entity_slugs(rng, max(20, incidents // 3))
    _write_entities(root / "aiidprod" / "entities.bson", entities)
    orgs = [slug for slug, _ in entities[: len(entities) - len(_PARTIES)]]
    org_cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(orgs))))
    mit_cum = list(itertools.accumulate(w for *_, w in _MIT_SUBDOMAINS))

    def pick_orgs(k: int) -> list[str]:
        return list(dict.fromkeys(rng.choices(orgs, cum_weights=org_cum, k=k)))

    counts = {"incidents": 0, "reports": 0, "classifications_MIT": 0, "duplicates": 0}
    report_number = 0
    with (
        (root / "incidents.csv").open("w", newline="", encoding="utf-8") as inc_file,
        (root / "reports.csv").open("w", newline="", encoding="utf-8") as rep_file,
        (root / "classifications_MIT.csv").open("w", newline="", encoding="utf-8") as mit_file,
    ):
        inc_out = csv.writer(inc_file, lineterminator="\n")
        rep_out = csv.writer(rep_file, lineterminator="\n")
        mit_out = csv.writer(mit_file, lineterminator="\n")
        inc_out.writerow(INCIDENT_HEADER)
        rep_out.writerow(REPORT_HEADER)
        mit_out.writerow(MIT_HEADER)
        previous_last = 0
        for incident_id, n_reports in enumerate(_report_counts(rng, incidents, reports), 1):
            day = _EPOCH_START + dt.timedelta(days=rng.randrange(_DAY_RANGE))
            numbers = list(range(report_number + 1, report_number + n_reports + 1))
            # About 1 % of incidents also cite a report of the incident before: the many-to-many
            # link (93 reports in the 2026 snapshot belong to several incidents).
            if previous_last and rng.random() < 0.01:
                numbers.append(previous_last)
            for number in range(report_number + 1, report_number + n_reports + 1):
                _write_report(rep_out, rng, text, number, day)
            report_number += n_reports
            previous_last = report_number
            deployers = pick_orgs(rng.randint(1, 2))
            developers = pick_orgs(rng.randint(1, 2))
            harmed = list(dict.fromkeys(rng.choices(_PARTIES, k=rng.randint(1, 2))))
            inc_out.writerow(
                (
                    _object_id(1, incident_id),
                    incident_id,
                    day.isoformat(),
                    _json_list(numbers),
                    _json_list(deployers),
                    _json_list(developers),
                    _json_list(harmed),
                    text.sentence(rng.randint(18, 30)),
                    text.title(),
                )
            )
            counts["incidents"] += 1
            counts["reports"] += n_reports
            if rng.random() < 0.9:
                domain, subdomain, _ = _MIT_SUBDOMAINS[
                    bisect.bisect(mit_cum, rng.random() * mit_cum[-1])
                ]
                mit_out.writerow(
                    (
                        "MIT",
                        incident_id,
                        "True",
                        domain,
                        subdomain,
                        rng.choices(("AI", "Human", "Other"), weights=(69, 30, 1))[0],
                        rng.choices(
                            ("Post-deployment", "Pre-deployment", "Other"), weights=(97, 2, 1)
                        )[0],
                        rng.choices(("Unintentional", "Intentional", "Other"), weights=(55, 44, 1))[
                            0
                        ],
                    )
                )
                counts["classifications_MIT"] += 1

    counts["duplicates"] = _write_duplicates(root / "duplicates.csv", rng, incidents)
    counts["entities"] = len(entities)
    return counts


def _write_report(
    out: Any, rng: random.Random, text: _Text, number: int, incident_day: dt.date
) -> None:
    published = incident_day + dt.timedelta(days=rng.randrange(0, 60))
    submitted = published + dt.timedelta(days=rng.randrange(1, 400))
    downloaded = submitted
    modified = submitted + dt.timedelta(days=rng.randrange(0, 30))
    body = text.report_text()
    first = body.split(". ", 1)[0]
    domain = rng.choice(_DOMAINS)
    author = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    submitter = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    out.writerow(
        (
            _object_id(2, number),
            "",
            _json_list([author]),
            downloaded.isoformat(),
            modified.isoformat(),
            published.isoformat(),
            submitted.isoformat(),
            first[:200] + ".",
            _epoch(downloaded),
            _epoch(modified),
            _epoch(published),
            _epoch(submitted),
            f"https://{domain}/images/{number}.jpg",
            rng.choice(_LANGUAGES),
            "",
            number,
            domain,
            _json_list([submitter]),
            body,
            text.title(),
            f"https://{domain}/{published.year}/{published.month:02d}/story-{number}",
            _json_list(["variant:approved"] if rng.random() < 0.001 else []),
        )
    )


def _write_duplicates(path: Path, rng: random.Random, incidents: int) -> int:
    """Merged ids above the last incident id, each pointing at a real incident; the last one
    points at the first duplicate, a duplicate of a duplicate as in the real snapshots."""
    count = max(2, incidents // 1000)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(DUPLICATE_HEADER)
        for k in range(1, count):
            out.writerow((incidents + k, rng.randint(1, incidents)))
        out.writerow((incidents + count, incidents + 1))
    return count


def _write_summary(stream: TextIO, root: Path, counts: dict[str, int], seconds: float) -> None:
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    parts = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    stream.write(f"wrote {root} in {seconds:.1f} s ({size / 1e6:,.1f} MB): {parts}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out", type=Path, help="folder to write the snapshot into")
    parser.add_argument("--incidents", type=int, default=1_000)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = write_snapshot(args.out, args.incidents, args.reports, args.seed)
    _write_summary(sys.stderr, args.out, counts, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
