"""Reference pipelines run on the same corpus and model, for `citeqa eval --compare`.

None of them has an answerer, so each "answers" with its top passage and never refuses;
retrieval metrics are what they are compared on, answers show what a reader would get.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llama_index.core import Document as LlamaDocument
from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from pydantic import PrivateAttr

from evals.questions import Question
from index.embedder import Embedder
from index.store import IndexData
from index.tokenize import tokenize
from service.schemas import AskResponse, Citation, Passage


class EmbedderAdapter(BaseEmbedding):
    """llama-index's embedding interface over citeqa's loaded model (same prompts, no reload)."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.model_id, embed_batch_size=embedder.batch_size, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_queries([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_documents([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_documents(texts).tolist()


def _top_passage_reply(passages: list[Passage]) -> AskResponse:
    if not passages:
        return AskResponse(answer="", answerable=False, citations=[], timings_ms={})
    top = passages[0]
    return AskResponse(answer=f"{top.text} [1]", answerable=True, citations=[Citation(n=1, **top.model_dump())], timings_ms={})


class LlamaIndexDefault:
    """llama-index out of the box: SentenceSplitter defaults, VectorStoreIndex, default top-k."""

    name = "llama-index default"

    def __init__(self, index: IndexData, embedder: Embedder) -> None:
        embed_model = EmbedderAdapter(embedder)  # passed explicitly: llama-index's global Settings stay untouched
        docs = [LlamaDocument(text=d.text, id_=d.doc_id, metadata={"title": d.title, "source": d.source})
                for d in index.documents.values()]
        self.index = VectorStoreIndex.from_documents(docs, transformations=[SentenceSplitter()], embed_model=embed_model)
        self.retriever = self.index.as_retriever()  # similarity_top_k defaults to 2

    def _passages(self, query: str) -> list[Passage]:
        out = []
        for hit in self.retriever.retrieve(query):
            node = hit.node
            out.append(Passage(doc_id=node.ref_doc_id or "", title=node.metadata.get("title", ""), source=node.metadata.get("source", ""),
                               chunk_id=node.node_id, text=node.get_content(), start=node.start_char_idx or 0,
                               end=node.end_char_idx or 0, score=float(hit.score or 0)))
        return out

    def ask(self, question: Question, top_k: int) -> AskResponse:
        return _top_passage_reply(self._passages(question.question))

    def search(self, query: str, top_k: int) -> list[Passage]:
        return self._passages(query)

    def all_passages(self) -> list[str] | None:
        return [n.get_content() for n in self.index.docstore.docs.values()]


class ChunkBaseline:
    """citeqa's chunks ranked by BM25 alone, dense alone, or a fixed 0.5/0.5 min-max ensemble."""

    def __init__(self, index: IndexData, embedder: Embedder, mode: str) -> None:
        if mode not in ("bm25", "dense", "ensemble"):
            raise ValueError(mode)
        self.index, self.embedder, self.mode = index, embedder, mode
        self.name = {"bm25": "BM25 (jieba)", "dense": "dense only", "ensemble": "BM25+dense 0.5/0.5"}[mode]
        self._vectors = index.dense.vectors(np.asarray([c.vid for c in index.chunks], np.int64)) if index.chunks else np.zeros((0, 1))

    def _scores(self, query: str) -> np.ndarray:
        bm25 = self.index.lexical.bm25_scores(tokenize(query))
        if self.mode == "bm25":
            return bm25
        dense = self._vectors @ self.embedder.embed_queries([query])[0]
        if self.mode == "dense":
            return dense
        return 0.5 * _minmax(dense) + 0.5 * _minmax(bm25)

    def search(self, query: str, top_k: int) -> list[Passage]:
        scores = self._scores(query)
        out = []
        for pos in np.argsort(-scores)[:top_k]:
            chunk = self.index.chunks[int(pos)].chunk
            doc = self.index.documents[chunk.doc_id]
            out.append(Passage(doc_id=chunk.doc_id, title=doc.title, source=doc.source, chunk_id=chunk.chunk_id,
                               text=chunk.text, start=chunk.start, end=chunk.end, score=float(scores[pos])))
        return out

    def ask(self, question: Question, top_k: int) -> AskResponse:
        return _top_passage_reply(self.search(question.question, top_k))

    def all_passages(self) -> list[str] | None:
        return [c.chunk.text for c in self.index.chunks]


def _minmax(values: np.ndarray) -> np.ndarray:
    span = float(values.max() - values.min()) if len(values) else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)
