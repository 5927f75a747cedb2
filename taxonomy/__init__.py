"""The failure-mode taxonomy: five modes, the techniques under them, and their crosswalks.

>>> from taxonomy import load_taxonomy
>>> taxonomy = load_taxonomy()
>>> [mode.id for mode in taxonomy.modes]
['multi_turn', 'agentic', 'distribution_shift', 'adversarial', 'misuse']
>>> taxonomy.from_external("atlas", "AML.T0051.001")
['adversarial.prompt_injection.indirect']
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from taxonomy._taxonomy import (
    SCHEMES,
    CrosswalkEntry,
    Node,
    SchemeInfo,
    Taxonomy,
    load_taxonomy,
)

if TYPE_CHECKING:
    from taxonomy._classify import (
        ClassifyResult,
        classify,
        import_labels,
        label_incident,
        read_label_file,
    )
    from taxonomy._default import (
        build_default,
        default_cache_path,
        default_classifier,
        load_examples,
    )
    from taxonomy._evaluate import evaluate, evaluate_techniques, train
    from taxonomy._model import FailureModeClassifier, Tag, Tagging, load_classifier
    from taxonomy._rules import RuleHit, RuleMatcher

# The classifiers pull in spaCy and scikit-learn (seconds to import); the taxonomy itself does
# not. They load on first use, so `incidentdb taxonomy show` and every other command start fast.
_LAZY = {
    "ClassifyResult": "_classify",
    "classify": "_classify",
    "import_labels": "_classify",
    "label_incident": "_classify",
    "read_label_file": "_classify",
    "build_default": "_default",
    "default_cache_path": "_default",
    "default_classifier": "_default",
    "load_examples": "_default",
    "evaluate": "_evaluate",
    "evaluate_techniques": "_evaluate",
    "train": "_evaluate",
    "FailureModeClassifier": "_model",
    "Tag": "_model",
    "Tagging": "_model",
    "load_classifier": "_model",
    "RuleHit": "_rules",
    "RuleMatcher": "_rules",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'taxonomy' has no attribute {name!r}")
    value = getattr(import_module(f"taxonomy.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "SCHEMES",
    "ClassifyResult",
    "CrosswalkEntry",
    "FailureModeClassifier",
    "Node",
    "RuleHit",
    "RuleMatcher",
    "SchemeInfo",
    "Tag",
    "Tagging",
    "Taxonomy",
    "build_default",
    "classify",
    "default_cache_path",
    "default_classifier",
    "evaluate",
    "evaluate_techniques",
    "import_labels",
    "label_incident",
    "load_classifier",
    "load_examples",
    "load_taxonomy",
    "read_label_file",
    "train",
]
