"""The shipped default classifier: built from the project's own examples, cached on first use.

``data/taxonomy/examples.v1.json`` holds incident-style sentences written for this project:
templates with slots (``"{scammer} used a {fake_media} of {public_figure} ..."``), the slot
fillers, and single examples. :func:`load_examples` expands the templates deterministically;
:func:`build_default` trains a :class:`~taxonomy._model.FailureModeClassifier` on them. No AIID
text and no labels from ``../shared`` go into it.

The built model is not committed: it is a pickle tied to the scikit-learn version, so
:func:`default_classifier` builds it on first use (a few seconds) and caches it under the user
cache directory, keyed by the examples, rules and scikit-learn version. Installs from a wheel
work because the examples ship in it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
from pathlib import Path

import sklearn

from incidentdb._data import bundled_data
from incidentdb._errors import ClassifierError
from taxonomy import _model as _model_module
from taxonomy import _rules as _rules_module
from taxonomy._model import FailureModeClassifier, load_classifier
from taxonomy._rules import MODES, RULES, RULES_VERSION

__all__ = [
    "DEFAULT_NAME",
    "build_default",
    "default_cache_path",
    "default_classifier",
    "load_examples",
]

DEFAULT_NAME = "incidentdb.default"
"""Provenance name of the shipped default classifier."""

EXAMPLES_FILE = "examples.v1.json"
CACHE_ENV = "INCIDENTDB_CACHE_DIR"
# Variants drawn per template that has slots; enough for the vocabulary of the slots to show.
VARIANTS_PER_TEMPLATE = 8
_SLOT = re.compile(r"\{([a-z_]+)\}")


def _examples_path() -> Path:
    return bundled_data("taxonomy", EXAMPLES_FILE)


def load_examples(path: str | Path | None = None) -> tuple[list[str], list[list[str]]]:
    """The training texts and their labels, templates expanded (same output every time).

    Raises:
        ValueError: a template names a slot that does not exist or a label outside the modes.
    """
    source = Path(path) if path is not None else _examples_path()
    data = json.loads(source.read_text(encoding="utf-8"))
    slots: dict[str, list[str]] = data["slots"]
    texts: list[str] = []
    labels: list[list[str]] = []
    seen: set[str] = set()

    def add(text: str, row_labels: list[str], where: str) -> None:
        unknown = set(row_labels) - set(MODES)
        if unknown:
            raise ValueError(f"{source.name}, {where}: unknown labels {sorted(unknown)}")
        if text not in seen:
            seen.add(text)
            texts.append(text)
            labels.append(sorted(row_labels))

    for i, template in enumerate(data["templates"]):
        text, row_labels = template["text"], template["labels"]
        names = _SLOT.findall(text)
        missing = [n for n in names if n not in slots]
        if missing:
            raise ValueError(f"{source.name}, template {i}: unknown slots {missing}")
        if not names:
            add(text, row_labels, f"template {i}")
            continue
        # A seed per template: editing one template does not reshuffle the others.
        rng = random.Random(f"{i}:{text}")
        for _ in range(VARIANTS_PER_TEMPLATE):
            filled = _fill(text, slots, rng)
            add(filled[0].upper() + filled[1:], row_labels, f"template {i}")
    for i, example in enumerate(data.get("examples", [])):
        add(example["text"], example["labels"], f"example {i}")
    return texts, labels


def _fill(text: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    return _SLOT.sub(lambda m: rng.choice(slots[m.group(1)]), text)


def build_default(out: str | Path | None = None) -> FailureModeClassifier:
    """Train the default classifier from the shipped examples (and save it to `out`)."""
    texts, labels = load_examples()
    classifier = FailureModeClassifier(name=DEFAULT_NAME).fit(texts, labels)
    if out is not None:
        classifier.save(out)
    return classifier


def _cache_dir() -> Path:
    if configured := os.environ.get(CACHE_ENV):
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "incidentdb"


def default_cache_path() -> Path:
    """Where the default classifier is cached: keyed by examples, rules and scikit-learn."""
    digest = hashlib.sha256()
    digest.update(_examples_path().read_bytes())
    digest.update(RULES_VERSION.encode())
    digest.update(repr(RULES).encode())
    digest.update(repr(FailureModeClassifier(name=DEFAULT_NAME).get_params()).encode())
    # The code that turns examples into a model: a change to it must not reuse an old cache.
    for module in (_rules_module, _model_module):
        digest.update(Path(module.__file__ or "").read_bytes())
    key = digest.hexdigest()[:12]
    return _cache_dir() / f"default-{key}-sklearn{sklearn.__version__}.pkl"


_LOADED: dict[str, FailureModeClassifier] = {}


def default_classifier() -> FailureModeClassifier:
    """The default classifier, built and cached on first use."""
    path = default_cache_path()
    if str(path) in _LOADED:
        return _LOADED[str(path)]
    classifier: FailureModeClassifier | None = None
    if path.exists():
        try:
            classifier = load_classifier(path)
        except ClassifierError:
            classifier = None  # a stale or broken cache entry: rebuild it
    if classifier is None:
        classifier = build_default()
        # A read-only home still classifies; it only rebuilds next time.
        with contextlib.suppress(OSError):
            classifier.save(path)
    _LOADED[str(path)] = classifier
    return classifier
