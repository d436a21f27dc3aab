"""BM25 over jieba tokens, with scores scaled so a weak lexical match stays weak."""

from __future__ import annotations

import math
from collections import Counter

import logging

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    def __init__(self, token_lists: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(token_lists)
        self.df: Counter[str] = Counter()
        for tokens in token_lists:
            self.df.update(set(tokens))
        self.k1 = k1
        self._bm25: bm25s.BM25 | None = None
        if self.size:
            self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
            # An empty chunk would break bm25s' vocabulary; a placeholder never matches a query.
            self._bm25.index([t or ["\x00"] for t in token_lists], show_progress=False)

    def idf(self, token: str) -> float:
        df = self.df.get(token, 0)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def bm25_scores(self, query_tokens: list[str]) -> np.ndarray:
        """Plain BM25 per chunk (query words the corpus lacks contribute nothing)."""
        known = [t for t in query_tokens if t in self.df]
        if not self.size or not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """Per-chunk BM25 divided by the best score a chunk could get for this query.

        Query terms the corpus lacks still count in the denominator, so an English
        question over Chinese text that matches only "AI" scores near 0 rather than
        having its one weak match stretched to 1 by min-max scaling.
        """
        ceiling = sum(self.idf(t) for t in query_tokens) * (self.k1 + 1)
        if ceiling <= 0:
            return np.zeros(self.size, dtype=np.float32)
        return self.bm25_scores(query_tokens) * (self.k1 + 1) / ceiling
