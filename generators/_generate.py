"""Generation: incidents and their labels in, a named suite of test cases out.

Deterministic given the seed: randomness comes only from `random.Random` seeded with strings
built from the seed, the incident and the builder, so the same store and options give the same
cases, byte for byte, in the same order.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from generators._builders import BUILDERS, BuildInput, builders_for
from generators._extract import extract_facts
from generators._mutators import apply_mutator, mutator_choices
from generators._source import IncidentContext, iter_contexts, select_incidents
from incidentdb import SILENT, Progress, Store, SuiteResult, TestCase

__all__ = ["MODES", "GenerateResult", "cases_for_incident", "generate_cases", "generate_suite"]

MODES = ("multi_turn", "agentic", "distribution_shift", "adversarial", "misuse")
# Mutators rewrite an attack turn; agentic cases vary by injection channel and
# distribution-shift cases by restatement instead.
MUTATED_BUILDERS = ("single_turn.v1", "multi_turn.v1")


@dataclass(frozen=True)
class GenerateResult:
    """What `generate_suite` did: the store's counts and what was skipped, with reasons."""

    suite: SuiteResult
    incidents: int
    cases: int
    by_kind: dict[str, int]
    skipped: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def taxonomy_crosswalk() -> dict[str, list[str]]:
    """Taxonomy node id → `"scheme:code"` crosswalk entries, from the shipped taxonomy."""
    from taxonomy import load_taxonomy

    tax = load_taxonomy()
    return {
        node.id: [f"{entry.scheme}:{entry.code}" for entry in node.crosswalk] for node in tax.nodes
    }


def cases_for_incident(
    context: IncidentContext,
    *,
    modes: Sequence[str] = (),
    variants: int = 0,
    seed: int = 0,
) -> list[TestCase]:
    """Every case for one incident: each builder's base cases, then `variants` mutations of each.

    Args:
        context: the incident with its reports, entities and labels.
        modes: only the builders of these failure modes (all of the incident's when empty).
        variants: how many mutated variants to add per single- or multi-turn base case.
        seed: the generation seed.
    """
    roles = context.entities
    facts = extract_facts(
        context.title,
        context.description,
        context.reports,
        deployers=roles.get("deployer", ()),
        harmed=roles.get("harmed", ()),
        systems=roles.get("implicated_system", ()),
    )
    crosswalk = taxonomy_crosswalk()
    inp = BuildInput(context=context, facts=facts, seed=seed, crosswalk=crosswalk)
    out: list[TestCase] = []
    for name in builders_for(context, tuple(modes)):
        base = BUILDERS[name](inp)
        out.extend(base)
        if variants <= 0 or name not in MUTATED_BUILDERS:
            continue
        for case in base:
            rng = random.Random(f"{seed}:{context.incident_id}:{name}:{case.id}")
            choices = [
                c
                for c in mutator_choices(context.techniques, rng)
                if not (c.startswith("prefill") and case.follow_ups)
            ]
            for spec in choices[:variants]:
                out.append(apply_mutator(case, spec, crosswalk=crosswalk))
    return out


def generate_cases(
    store: Store,
    *,
    incident_ids: Sequence[int] = (),
    where: Sequence[str] = (),
    modes: Sequence[str] = (),
    variants: int = 0,
    seed: int = 0,
    progress: Progress = SILENT,
    skipped: list[str] | None = None,
) -> Iterator[TestCase]:
    """The cases for the selected incidents, incident by incident (see `select_incidents`).

    Incidents that yield no case (no label calls for a builder) are noted in `skipped`.
    """
    ids = select_incidents(store, incident_ids=incident_ids, where=where, modes=modes)
    progress.stage("generating", total=len(ids))
    for context in iter_contexts(store, ids):
        cases = cases_for_incident(context, modes=modes, variants=variants, seed=seed)
        if not cases and skipped is not None:
            why = (
                f"labels {', '.join(context.modes)} do not match --mode {', '.join(modes)}"
                if context.modes
                else "no failure-mode label (classify it first)"
            )
            skipped.append(f"incident {context.incident_id}: {why}")
        yield from cases
        progress.advance()


def generate_suite(
    store: Store,
    suite: str,
    *,
    incident_ids: Sequence[int] = (),
    where: Sequence[str] = (),
    modes: Sequence[str] = (),
    variants: int = 0,
    seed: int = 0,
    progress: Progress = SILENT,
) -> GenerateResult:
    """Generate cases and make suite `suite` hold exactly them (idempotent).

    Raises:
        StoreError: a malformed `where` filter or an unknown mode.
        NotFoundError: an explicit incident id that is not in the store.
    """
    from incidentdb import StoreError

    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise StoreError(f"unknown failure mode {unknown[0]!r}", hint=f"Modes: {', '.join(MODES)}.")
    skipped: list[str] = []
    params: dict[str, Any] = {
        "incidents": sorted(incident_ids),
        "where": list(where),
        "modes": sorted(modes),
        "variants": variants,
        "seed": seed,
        "builders": sorted(BUILDERS),
    }
    cases = list(
        generate_cases(
            store,
            incident_ids=incident_ids,
            where=where,
            modes=modes,
            variants=variants,
            seed=seed,
            progress=progress,
            skipped=skipped,
        )
    )
    progress.stage("saving", total=len(cases))
    saved = store.save_suite(suite, cases, params=params)
    progress.advance(len(cases))
    progress.done()
    by_kind: dict[str, int] = {}
    for case in cases:
        by_kind[case.kind] = by_kind.get(case.kind, 0) + 1
    return GenerateResult(
        suite=saved,
        incidents=len({i for c in cases for i in c.provenance.incident_ids}),
        cases=saved.total,
        by_kind=dict(sorted(by_kind.items())),
        skipped=skipped,
    )
