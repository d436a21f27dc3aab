"""Hybrid retrieval: dense candidates and BM25 candidates, fused and reranked.

Fusion is additive on calibrated scales rather than min-max or RRF: the dense side is
a cosine, the lexical side is BM25 as a share of the query's best possible score (see
``LexicalIndex.scores``), so a query whose words the corpus does not contain (an
English question over Chinese text) gets almost no lexical pull. The rerank adds the
best sentence cosine inside each passage, from sentence vectors computed at index time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.store import IndexData
from index.tokenize import tokenize
from ingest.schema import ScoredChunk


@dataclass(frozen=True)
class RetrievalParams:
    candidates: int = 50
    lexical_weight: float = 0.2
    sentence_weight: float = 1.0


@dataclass
class Candidate:
    index: int  # position in IndexData.chunks
    dense: float
    lexical: float
    sentence: float  # best sentence cosine inside the passage
    sentence_scores: np.ndarray  # cosine of each sentence of the passage
    score: float = 0.0

    def to_scored(self, data: IndexData) -> ScoredChunk:
        return ScoredChunk(chunk=data.chunks[self.index].chunk, score=self.score, dense=self.dense, lexical=self.lexical)


def retrieve(data: IndexData, query_vector: np.ndarray, query_text: str, params: RetrievalParams) -> list[Candidate]:
    """All candidates, best first."""
    n = len(data.chunks)
    if n == 0:
        return []
    k = min(params.candidates, n)
    dense_scores, vids = data.dense.search(query_vector.reshape(1, -1), k)
    dense_by_pos = {data.by_vid[int(v)]: float(s) for v, s in zip(vids[0], dense_scores[0]) if v >= 0}

    lexical = data.lexical.scores(tokenize(query_text))
    lexical_top = np.argsort(-lexical)[:k]
    positions = set(dense_by_pos) | {int(i) for i in lexical_top if lexical[i] > 0}

    out = []
    for pos in positions:
        record = data.chunks[pos]
        dense = dense_by_pos.get(pos)
        if dense is None:
            dense = float(data.dense.reconstruct(record.vid) @ query_vector)
        rows = data.sentence_vector_rows(record.chunk)
        sentence_scores = data.sentence_vectors[rows] @ query_vector
        cand = Candidate(pos, dense, float(lexical[pos]), float(sentence_scores.max()), sentence_scores)
        cand.score = cand.dense + params.lexical_weight * cand.lexical + params.sentence_weight * cand.sentence
        out.append(cand)
    out.sort(key=lambda c: -c.score)
    return out
