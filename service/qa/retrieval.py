"""Hybrid retrieval: dense candidates and BM25 candidates, fused and reranked.

Fusion is additive on calibrated scales rather than min-max or RRF: the dense side is
a cosine, the lexical side is BM25 as a share of the query's best possible score (see
``LexicalIndex.scores``), so a query whose words the corpus does not contain (an
English question over Chinese text) gets almost no lexical pull. The rerank adds the
best sentence cosine inside each passage, from sentence vectors computed at index time
(or, for documents ingested without them, computed for the top candidates at query time).
"""

from __future__ import annotations

from collections.abc import Callable
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
    sentence_scores: np.ndarray | None  # cosine of each sentence of the passage (None: not computed yet)
    score: float = 0.0

    def to_scored(self, data: IndexData) -> ScoredChunk:
        return ScoredChunk(chunk=data.chunks[self.index].chunk, score=self.score, dense=self.dense, lexical=self.lexical)


def retrieve(data: IndexData, query_vector: np.ndarray, query_text: str, params: RetrievalParams) -> list[Candidate]:
    """All candidates, best first."""
    n = len(data.chunks)
    if n == 0:
        return []
    k = min(params.candidates, n)
    dense_scores, vids = data.dense.search(query_vector, k)
    # A shared vector store (Milvus) may return ids of another version: skip them.
    dense_by_pos = {data.by_vid[int(v)]: float(s) for v, s in zip(vids, dense_scores) if int(v) in data.by_vid}
    dense_by_pos = dict(list(dense_by_pos.items())[:k])

    lexical = data.lexical.scores(tokenize(query_text))
    lexical_top = np.argsort(-lexical)[:k]
    positions = set(dense_by_pos) | {int(i) for i in lexical_top if lexical[i] > 0}

    lexical_only = [pos for pos in positions if pos not in dense_by_pos]
    if lexical_only:
        vectors = data.dense.vectors(np.asarray([data.chunks[p].vid for p in lexical_only], np.int64))
        dense_by_pos.update(zip(lexical_only, (vectors @ query_vector).tolist()))

    out = []
    for pos in positions:
        record = data.chunks[pos]
        rows = data.sentence_vector_rows(record.chunk)
        if rows:
            sentence_scores = data.sentence_vectors[rows] @ query_vector
            best = float(sentence_scores.max())
        else:  # no stored sentence vectors: the passage stands in until complete_sentence_scores
            sentence_scores, best = None, dense_by_pos[pos]
        cand = Candidate(pos, dense_by_pos[pos], float(lexical[pos]), best, sentence_scores)
        _score(cand, params)
        out.append(cand)
    out.sort(key=lambda c: -c.score)
    return out


def _score(cand: Candidate, params: RetrievalParams) -> None:
    cand.score = cand.dense + params.lexical_weight * cand.lexical + params.sentence_weight * cand.sentence


def complete_sentence_scores(data: IndexData, candidates: list[Candidate], query_vector: np.ndarray,
                             embed: Callable[[list[str], str], np.ndarray], params: RetrievalParams,
                             depth: int = 10) -> list[Candidate]:
    """Give the top ``depth`` candidates whose documents were ingested without sentence
    vectors their real sentence scores (embedding those sentences now), then re-rank.

    Every passage in the top ``depth`` is then scored the same way, whether its vectors
    were stored or not; ``embed(texts, title)`` should hit the embedding cache on repeats.
    """
    lacking = [c for c in candidates[:depth] if c.sentence_scores is None]
    for cand in lacking:
        chunk = data.chunks[cand.index].chunk
        doc = data.documents[chunk.doc_id]
        vectors = embed([doc.text[s.start : s.end] for s in chunk.sentences], doc.title)
        cand.sentence_scores = vectors @ query_vector
        cand.sentence = float(cand.sentence_scores.max())
        _score(cand, params)
    for cand in candidates[depth:]:
        if cand.sentence_scores is None:
            cand.sentence_scores = np.full(len(data.chunks[cand.index].chunk.sentences), cand.sentence, np.float32)
    if lacking:
        candidates = sorted(candidates[:depth], key=lambda c: -c.score) + candidates[depth:]
    return candidates
