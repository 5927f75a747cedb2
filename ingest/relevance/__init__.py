"""The relevance filter: does a news article report an AI incident or hazard?

>>> from ingest.relevance import load_default_filter
>>> verdict = load_default_filter().score(
...     "Man wrongfully arrested after facial recognition error",
...     "Police detained him after the software matched his photo to a suspect.",
... )
>>> verdict.relevant
True

The filter combines spaCy phrase matching over lemmas (AI terms, harm terms, known entity names)
with a calibrated logistic regression over TF-IDF features, trained on the examples in
``data/relevance/train.jsonl``. :func:`evaluate_relevance` measures it on real incident reports
and on a labelled mix of AI news (``data/relevance/eval_mix.jsonl``, kept apart from training).
"""

from ingest.relevance._default import build_default_filter, load_default_filter
from ingest.relevance._eval import RelevanceScore, evaluate_relevance
from ingest.relevance._filter import (
    FILTER_NAME,
    FILTER_VERSION,
    Example,
    Relevance,
    RelevanceFilter,
    read_examples,
    read_terms,
)

__all__ = [
    "FILTER_NAME",
    "FILTER_VERSION",
    "Example",
    "Relevance",
    "RelevanceFilter",
    "RelevanceScore",
    "build_default_filter",
    "evaluate_relevance",
    "load_default_filter",
    "read_examples",
    "read_terms",
]
