"""The failure-mode taxonomy: five modes, the techniques under them, and their crosswalks.

>>> from taxonomy import load_taxonomy
>>> taxonomy = load_taxonomy()
>>> [mode.id for mode in taxonomy.modes]
['multi_turn', 'agentic', 'distribution_shift', 'adversarial', 'misuse']
>>> taxonomy.from_external("atlas", "AML.T0051.001")
['adversarial.prompt_injection.indirect']
"""

from taxonomy._taxonomy import (
    SCHEMES,
    CrosswalkEntry,
    Node,
    SchemeInfo,
    Taxonomy,
    load_taxonomy,
)

__all__ = [
    "SCHEMES",
    "CrosswalkEntry",
    "Node",
    "SchemeInfo",
    "Taxonomy",
    "load_taxonomy",
]
