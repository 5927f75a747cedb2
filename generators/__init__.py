"""Test-case generators and harness exporters: incidents in, replayable adversarial suites out.

>>> from incidentdb import Store
>>> from generators import generate_suite, export_suite
>>> store = Store("sqlite:///incidents.sqlite")                        # doctest: +SKIP
>>> generate_suite(store, "nightly", modes=["agentic"], variants=2)     # doctest: +SKIP
>>> export_suite(store, "nightly", "promptfoo", "exports/")             # doctest: +SKIP

Builders (``single_turn.v1``, ``multi_turn.v1``, ``agentic.v1``, ``distribution_shift.v1``)
and mutators live in private modules; exporters are registered generators with versioned names
(``inspect_ai.v1``, ``promptfoo.v1``, ``pyrit.v1``, ``garak.v1``, ``openai-evals.v1``,
``jsonl.v1``) in the ``incidentdb.generators`` entry-point group.
"""

from generators._builders import BUILDERS
from generators._export import Exporter, ExportResult, exporter_for
from generators._generate import MODES, GenerateResult, cases_for_incident, generate_suite
from generators._mutators import MUTATORS
from generators._suite import HARNESSES, demo_exports, export_suite

__all__ = [
    "BUILDERS",
    "HARNESSES",
    "MODES",
    "MUTATORS",
    "ExportResult",
    "Exporter",
    "GenerateResult",
    "cases_for_incident",
    "demo_exports",
    "export_suite",
    "exporter_for",
    "generate_suite",
]
