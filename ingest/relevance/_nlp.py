"""The spaCy side of the relevance filter: a blank English pipeline whose NORM is the lemma.

No pretrained pipeline is available here, so lemmas come from spaCy's English lookup table (the
``spacy-lookups-data`` package), lower-cased, with a plural rule for words the table lacks
("chatbots", "deepfakes"). They are the vocabulary's NORM attribute, so
``PhraseMatcher(attr="NORM")`` matches "crashed" against the pattern "crash" and the TF-IDF model
sees one feature for both. Setting it as a lexical attribute getter means each word type is
lemmatised once, when the vocabulary first meets it, rather than once per token: scoring costs
little more than tokenising.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache

import spacy
from spacy.attrs import IS_PUNCT, IS_SPACE, NORM
from spacy.language import Language
from spacy.tokens import Doc

__all__ = ["NUMBER_NORM", "inflected_forms", "lemma_of", "make_nlp", "norm_of", "norms"]

NUMBER_NORM = "<num>"
# A number carries no topic; one shared feature keeps the vocabulary small.
_NUMBER = re.compile(r"^[\d.,:%$€£/+-]*\d[\d.,:%$€£/+-]*$")
_SUFFIX_EXCEPTIONS = ("ss", "us", "sis", "ous", "ics")
# The lookup table reads "ai" as in "ai n't" and "data" as a plural of "datum"; in news about AI
# systems these words mean themselves.
_KEEP = {"ai": "ai", "data": "data", "media": "media", "ais": "ai"}


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    import spacy_lookups_data

    path = spacy_lookups_data.get_file("en_lemma_lookup.json.gz")
    with gzip.open(str(path), "rt", encoding="utf-8") as fh:
        table: dict[str, str] = json.load(fh)
    return {k.lower(): v.lower() for k, v in table.items()}


def inflected_forms() -> dict[str, str]:
    """Lower-case inflected English words ("crashed", "regulators") and their lemmas."""
    return _lookup()


# Lemmas already worked out: news text repeats its words, and the rule below is pure Python.
_seen: dict[str, str] = {}
_SEEN_MAX = 200_000


def lemma_of(word: str) -> str:
    """Lower-case lemma of one word: the lookup table, else a plural rule, else the word.

    >>> lemma_of("Crashed"), lemma_of("chatbots"), lemma_of("bias")
    ('crash', 'chatbot', 'bias')
    """
    lower = word.lower()
    hit = _seen.get(lower)
    if hit is not None:
        return hit
    lemma = _KEEP.get(lower) or _lookup().get(lower)
    if lemma is None:
        lemma = lower
        if (
            len(lower) > 4
            and lower.endswith("s")
            and not lower.endswith(_SUFFIX_EXCEPTIONS)
            and lower.isalpha()
        ):
            lemma = lower[:-1]
    if len(_seen) < _SEEN_MAX:
        _seen[lower] = lemma
    return lemma


def norm_of(word: str) -> str:
    """The NORM the pipeline gives a word: its lemma, or ``<num>`` for a number."""
    return NUMBER_NORM if _NUMBER.match(word) else lemma_of(word)


def make_nlp() -> Language:
    """A blank English pipeline whose vocabulary's NORM is the lower-case lemma."""
    nlp = spacy.blank("en")
    nlp.vocab.lex_attr_getters[NORM] = norm_of  # type: ignore[attr-defined]
    # Lexemes made before the getter was set (tokenizer exceptions) get their norm now.
    for lexeme in nlp.vocab:
        lexeme.norm_ = norm_of(lexeme.orth_)
    return nlp


def norms(doc: Doc) -> list[str]:
    """The doc's lemma-norms, without punctuation and whitespace."""
    array = doc.to_array([NORM, IS_PUNCT, IS_SPACE])
    keep = array[(array[:, 1] == 0) & (array[:, 2] == 0), 0].tolist()
    out = []
    for key in keep:
        word = _norm_strings.get(key)
        if word is None:
            word = _norm_strings[key] = doc.vocab.strings[key]
        out.append(word)
    return out


# Hash to string for norms: the StringStore lookup is the slow part of reading a doc's norms.
_norm_strings: dict[int, str] = {}
