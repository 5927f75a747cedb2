"""The failure-mode taxonomy: five modes, the techniques under them, and their crosswalks.

>>> from taxonomy import load_taxonomy
>>> taxonomy = load_taxonomy()
>>> [mode.id for mode in taxonomy.modes]
['multi_turn', 'agentic', 'distribution_shift', 'adversarial', 'misuse']
>>> taxonomy.from_external("atlas", "AML.T0051.001")
['adversarial.prompt_injection.indirect']
"""

from taxonomy._classify import (
    ClassifyResult,
    classify,
    import_labels,
    label_incident,
    read_label_file,
)
from taxonomy._default import build_default, default_cache_path, default_classifier, load_examples
from taxonomy._evaluate import evaluate, train
from taxonomy._model import FailureModeClassifier, Tag, Tagging, load_classifier
from taxonomy._rules import RuleHit, RuleMatcher
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
    "import_labels",
    "label_incident",
    "load_classifier",
    "load_examples",
    "load_taxonomy",
    "read_label_file",
    "train",
]
