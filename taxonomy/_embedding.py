"""Word vectors learnt without labels from the texts of a store, as dense document features.

A model trained on a few hundred labelled incidents sees each rare-label word a handful of times
at most; words it never saw with a label give it nothing. :class:`CooccurrenceEmbedding` learns
word vectors from how words co-occur in a corpus of *unlabelled* texts (every incident in the
store, plus the shipped examples): positive pointwise mutual information of word pairs within a
window, reduced by a truncated SVD. A document is the TF-IDF-weighted mean of its words' vectors,
so "agent", "autonomous" and "executed" land near each other even when only one of them occurs
in a labelled incident. No label is read; the vectors are deterministic for a given corpus.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

__all__ = ["CooccurrenceEmbedding"]


class CooccurrenceEmbedding:
    """PPMI + SVD word vectors fitted on unlabelled texts; documents are TF-IDF-weighted means.

    Args:
        dimensions: size of the word vectors.
        window: co-occurrence window (words before each word; counted both ways).
        min_df: a word must occur in at least this many texts to get a vector.
        smoothing: context-distribution smoothing exponent of the PPMI (0.75, as word2vec).
    """

    def __init__(
        self, dimensions: int = 100, window: int = 5, min_df: int = 2, smoothing: float = 0.75
    ) -> None:
        self.dimensions = dimensions
        self.window = window
        self.min_df = min_df
        self.smoothing = smoothing

    def fit(self, corpus: Sequence[str]) -> CooccurrenceEmbedding:
        """Learn the vocabulary, IDF weights and word vectors from `corpus` (no labels)."""
        texts = list(corpus)
        self.vectorizer_ = TfidfVectorizer(
            min_df=self.min_df, stop_words="english", sublinear_tf=True
        ).fit(texts)
        vocabulary = self.vectorizer_.vocabulary_
        analyse = self.vectorizer_.build_analyzer()
        rows: list[int] = []
        cols: list[int] = []
        for text in texts:
            ids = [vocabulary[t] for t in analyse(text) if t in vocabulary]
            for i, a in enumerate(ids):
                for b in ids[max(0, i - self.window) : i]:
                    rows += (a, b)
                    cols += (b, a)
        size = len(vocabulary)
        counts = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size)).tocsr()
        counts.sum_duplicates()
        counts = counts.tocoo()
        word = np.asarray(counts.sum(axis=1)).ravel()
        context = word**self.smoothing
        context /= context.sum()
        total = word.sum()
        # PMI(a, b) = log P(a, b) / (P(a) P_smoothed(b)); keep the positive part only.
        pmi = np.log(counts.data * total / (word[counts.row] * context[counts.col] * total))
        keep = pmi > 0
        ppmi = sp.csr_matrix((pmi[keep], (counts.row[keep], counts.col[keep])), shape=(size, size))
        k = max(1, min(self.dimensions, size - 1))
        svd = TruncatedSVD(k, random_state=0)
        self.vectors_ = normalize(svd.fit_transform(ppmi)).astype(np.float32)
        digest = hashlib.sha256()
        for text in texts:
            digest.update(text.encode())
        self.fingerprint_ = digest.hexdigest()
        self.n_texts_ = len(texts)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text (zeros for a text with no known word)."""
        weights = self.vectorizer_.transform(list(texts))
        return normalize(np.asarray(weights @ self.vectors_))

    @property
    def feature_names(self) -> list[str]:
        return [f"embedding:{i}" for i in range(self.vectors_.shape[1])]
