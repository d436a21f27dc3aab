"""Question in, cited answer out: resolve follow-ups, retrieve, quote, or refuse."""

from __future__ import annotations

import time

import numpy as np
from collections.abc import Iterator
from dataclasses import dataclass, field

from index.embedder import Embedder
from index.store import IndexData
from service.qa.quoting import AnswerParams, Quote, answer_pieces, order_for_reading, select_quotes
from service.qa.answerability import (Synonyms, expected_answer_type, key_terms, missing_terms, type_satisfied,
                                   unbound_terms)
from service.qa.comparison import comparison_entities, mentions_any, names_of, side_question
from service.qa.followup import resolve_question
from service.qa.language import REFUSALS, detect_language
from service.qa.retrieval import Candidate, RetrievalParams, complete_sentence_scores, retrieve
from service.schemas import MAX_QUESTION_CHARS, AskResponse, Citation, Passage, SearchResponse

REFUSAL_CONTEXT = 3  # nearest passages shown with a refusal, for the reader to check
SIDE_PASSAGES = 3  # passages searched for each side of a comparison


@dataclass(frozen=True)
class PipelineParams:
    retrieval: RetrievalParams = field(default_factory=RetrievalParams)
    answer: AnswerParams = field(default_factory=AnswerParams)
    # Refuse when the best quotable sentence is less similar to the question than this.
    min_sentence_cosine: float = 0.40


@dataclass
class Assessment:
    """Why an answer was given or refused; kept for evaluation reports."""

    best_cosine: float
    top_score: float
    missing_terms: list[str]
    answer_type: str | None
    type_satisfied: bool
    answerable: bool


class QAPipeline:
    def __init__(self, embedder: Embedder, params: PipelineParams | None = None) -> None:
        self.embedder = embedder
        self.params = params or PipelineParams()
        self._synonym_cache: tuple[str, Synonyms] = ("", Synonyms())

    def _synonyms(self, data: IndexData) -> Synonyms:
        # Parsed once per index version rather than per question.
        if self._synonym_cache[0] != data.synonyms_text:
            self._synonym_cache = (data.synonyms_text, Synonyms.from_text(data.synonyms_text))
        return self._synonym_cache[1]

    def search(self, data: IndexData, query: str, top_k: int) -> SearchResponse:
        t0 = time.perf_counter()
        hits = self._retrieve(data, query)[:top_k]
        return SearchResponse(
            results=[_passage(data, hit) for hit in hits],
            timings_ms={"total": round(_ms(t0), 1)},
        )

    def ask(self, data: IndexData, question: str, history: list[tuple[str, str]] | None = None, top_k: int = 5) -> AskResponse:
        response, _ = self.ask_with_assessment(data, question, history, top_k)
        return response

    def ask_with_assessment(self, data: IndexData, question: str, history: list[tuple[str, str]] | None = None,
                            top_k: int = 5) -> tuple[AskResponse, Assessment]:
        draft = self._draft(data, question, history or [], top_k)
        return draft.response(), draft.assessment

    def ask_events(self, data: IndexData, question: str, history: list[tuple[str, str]] | None = None,
                   top_k: int = 5) -> Iterator[tuple[str, object]]:
        """The answer as stream events: ("citations", [...]), ("delta", text)..., ("done", AskResponse).

        The citations event is ready as soon as retrieval and sentence selection are,
        before any answer text; the done event carries the same reply as ``ask``.
        """
        draft = self._draft(data, question, history or [], top_k)
        yield "citations", draft.citations
        for piece in draft.pieces:
            yield "delta", piece
        yield "done", draft.response()

    def _draft(self, data: IndexData, question: str, history: list[tuple[str, str]], top_k: int) -> "_Answer":
        t0 = time.perf_counter()
        # A follow-up splices an earlier turn into the question: keep the result as bounded as a question.
        resolved = resolve_question(question, history)[:MAX_QUESTION_CHARS]
        synonyms = self._synonyms(data)
        terms = key_terms(resolved, synonyms)
        sides = comparison_entities(resolved, terms, synonyms)
        side_queries = [side_question(resolved, e, [o for o in sides if o != e], synonyms) for e in sides]
        # The question and every side of a comparison in one forward pass.
        vectors = self.embedder.embed_queries([resolved, *side_queries])
        candidates = self._retrieve(data, resolved, vectors[0])
        hits = candidates[:top_k]
        t_retrieved = time.perf_counter()

        def uncovered(contexts: list[str]) -> list[str]:
            return missing_terms(terms, contexts, synonyms, data.squashed_text)

        answer_type = expected_answer_type(resolved)

        def can_cover(quote: Quote) -> bool:
            # A sentence only completes the answer if it could answer on its own.
            return quote.cosine >= self.params.min_sentence_cosine and type_satisfied(answer_type, [quote.text], resolved)

        seeds: list[tuple[str, int]] = []
        for entity, query, vector in zip(sides, side_queries, vectors[1:]):
            side = self._side(data, resolved, entity, query, vector, synonyms, answer_type)
            if side is not None:
                candidate, start = side
                if all(h.index != candidate.index for h in hits):
                    hits = hits[: top_k - 1 - len(seeds)] + [candidate] + hits[top_k - 1 - len(seeds):][: len(seeds)]
                seeds.append((data.chunks[candidate.index].chunk.doc_id, start))

        draft = select_quotes(data, resolved, hits, self.params.answer, covers=uncovered, can_cover=can_cover, seeds=seeds)
        missing = uncovered([q.context for q in draft.quotes])
        if not missing:
            missing = unbound_terms(terms, [(q.context, q.text) for q in draft.quotes], answer_type, resolved, synonyms)
        typed = type_satisfied(answer_type, [q.text for q in draft.quotes], resolved)
        best_cosine = draft.best.cosine if draft.best else 0.0
        answerable = bool(draft.quotes) and best_cosine >= self.params.min_sentence_cosine and not missing and typed
        assessment = Assessment(best_cosine, hits[0].score if hits else 0.0, missing, answer_type, typed, answerable)

        if answerable:
            quotes = order_for_reading(draft.quotes, hits, data)
            numbers: dict[int, int] = {}
            for quote in quotes:
                numbers.setdefault(quote.candidate_rank, len(numbers) + 1)
            pieces = answer_pieces(quotes, numbers)
            citations = [
                Citation(n=n, highlights=[q.span for q in quotes if q.candidate_rank == rank], **_passage(data, hits[rank]).model_dump())
                for rank, n in numbers.items()
            ]
        else:
            pieces = [REFUSALS[detect_language(question)]]
            citations = [Citation(n=i + 1, **_passage(data, hit).model_dump()) for i, hit in enumerate(hits[:REFUSAL_CONTEXT])]
        return _Answer(
            answerable=answerable, citations=citations, pieces=pieces, assessment=assessment,
            resolved=resolved if resolved != question.strip() else None, started=t0, retrieved=t_retrieved,
        )

    def _side(self, data: IndexData, question: str, entity: str, query: str, vector: np.ndarray, synonyms: Synonyms,
              answer_type: str | None) -> tuple[Candidate, int] | None:
        """The best sentence about one side of a comparison: (its passage, its start)."""
        names = names_of(entity, synonyms)
        best: tuple[float, Candidate, int] | None = None
        window = self.params.answer.context_chars
        for candidate in self._retrieve(data, query, vector)[:SIDE_PASSAGES]:
            chunk = data.chunks[candidate.index].chunk
            text = data.documents[chunk.doc_id].text
            for span, cosine in zip(chunk.sentences, candidate.sentence_scores):
                sentence = text[span.start : span.end]
                context = text[max(chunk.start, span.start - window) : span.end]
                if (cosine >= self.params.min_sentence_cosine and mentions_any(context, names)
                        and type_satisfied(answer_type, [sentence], question) and (best is None or cosine > best[0])):
                    best = (float(cosine), candidate, span.start)
        return (best[1], best[2]) if best else None

    def _retrieve(self, data: IndexData, query: str, vector: np.ndarray | None = None) -> list[Candidate]:
        if vector is None:
            vector = self.embedder.embed_queries([query])[0]
        candidates = retrieve(data, vector, query, self.params.retrieval)
        return complete_sentence_scores(data, candidates, vector, self._embed_sentences, self.params.retrieval)

    def _embed_sentences(self, texts: list[str], title: str) -> np.ndarray:
        return self.embedder.embed_documents(texts, title=title)


@dataclass
class _Answer:
    answerable: bool
    citations: list[Citation]
    pieces: list[str]
    assessment: Assessment
    resolved: str | None
    started: float
    retrieved: float

    def response(self) -> AskResponse:
        finished = time.perf_counter()
        return AskResponse(
            answer="".join(self.pieces),
            answerable=self.answerable,
            citations=self.citations,
            timings_ms={"retrieve": round((self.retrieved - self.started) * 1000, 1),
                        "answer": round((finished - self.retrieved) * 1000, 1),
                        "total": round((finished - self.started) * 1000, 1)},
            resolved_question=self.resolved,
            confidence=round(self.assessment.best_cosine, 4),
        )


def _passage(data: IndexData, hit: Candidate) -> Passage:
    chunk = data.chunks[hit.index].chunk
    doc = data.documents[chunk.doc_id]
    return Passage(
        doc_id=chunk.doc_id, title=doc.title, source=doc.source, chunk_id=chunk.chunk_id,
        text=chunk.text, start=chunk.start, end=chunk.end, score=round(hit.score, 4),
    )


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000
