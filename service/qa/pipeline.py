"""Question in, cited answer out: resolve follow-ups, retrieve, quote, or refuse."""

from __future__ import annotations

import time

import numpy as np
from index.tokenize import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from index.embedder import Embedder
from index.store import IndexData
from ingest.schema import Span
from service.qa.quoting import (AnswerParams, Draft, Quote, answer_pieces, asks_for_list, continue_lists, order_for_reading,
                                quotable_text, select_quotes)
from service.qa.answerability import (Synonyms, expected_answer_type, key_terms, missing_terms, source_names,
                                      type_satisfied, unbound_terms)
from service.qa.binding import QuestionBinding, Vocabulary, load_scopes
from service.qa.conflicts import NOTES, conflicting
from service.qa.comparison import comparison_entities, mentions_any, names_of, side_question
from service.qa.completeness import missing_parts
from service.qa.followup import resolve_question
from service.qa.generative import Generation, GenerationParams, offer_sources, write_verified
from service.qa.verify import OfferedSource, Verdict, Verifier
from service.qa.writer import Writer, WriterError
from service.qa.language import detect_language, introduce, refusal
from service.qa.translation import SentenceTable
from service.qa.refusal import Evidence, RefusalModel
from service.qa.retrieval import Candidate, RetrievalParams, complete_sentence_scores, retrieve
from service.schemas import MAX_QUESTION_CHARS, AskResponse, Citation, Passage, SearchResponse, UnsupportedSentence

REFUSAL_CONTEXT = 3  # nearest passages shown with a refusal, for the reader to check
SIDE_PASSAGES = 3  # passages searched for each side of a comparison


@dataclass(frozen=True)
class PipelineParams:
    retrieval: RetrievalParams = field(default_factory=RetrievalParams)
    answer: AnswerParams = field(default_factory=AnswerParams)
    # A sentence less similar to the question than this does not complete an answer (another
    # side, a list item) and, without a refusal model, the answer is refused below it.
    min_sentence_cosine: float = 0.40
    # Weighs the evidence once the binding rules have passed (service/qa/refusal.py); None
    # leaves the decision to min_sentence_cosine alone.
    refusal: RefusalModel | None = None
    generation: GenerationParams = field(default_factory=GenerationParams)
    # extractive, generative, or auto (generative when a writer is configured).
    answer_mode: str = "extractive"


@dataclass
class Assessment:
    """Why an answer was given or refused; kept for evaluation reports."""

    best_cosine: float
    top_score: float
    missing_terms: list[str]
    answer_type: str | None
    type_satisfied: bool
    answerable: bool
    # Whether the rules (binding, mentions, value type, both sides) let the answer through.
    rules_pass: bool = False
    # What a refusal model weighs; computed when asked for (None when nothing could be quoted).
    _evidence: Callable[[], Evidence | None] = lambda: None

    @cached_property
    def evidence(self) -> Evidence | None:
        return self._evidence()


class QAPipeline:
    def __init__(self, embedder: Embedder, params: PipelineParams | None = None, writer: Writer | None = None) -> None:
        self.embedder = embedder
        self.params = params or PipelineParams()
        self.writer = writer
        self._tables: tuple[IndexData | None, SentenceTable | None] = (None, None)
        self._vocabulary_cache: tuple[str, Vocabulary] = ("", Vocabulary(Synonyms(), load_scopes()))
        self._quotable: tuple[IndexData | None, str, str] = (None, "", "")

    def _vocabulary(self, data: IndexData) -> Vocabulary:
        # Parsed once per index version rather than per question.
        if self._vocabulary_cache[0] != data.synonyms_text or not self._vocabulary_cache[1].synonyms.groups:
            self._vocabulary_cache = (data.synonyms_text, Vocabulary(Synonyms.from_text(data.synonyms_text), load_scopes()))
        return self._vocabulary_cache[1]

    def _quotable_text(self, data: IndexData) -> tuple[str, str]:
        """All documents without reference lists and links: as written, and squashed (once per
        index version)."""
        if self._quotable[0] is not data:
            text = "\n".join(quotable_text(d.text) for d in data.documents.values())
            self._quotable = (data, text, "".join(text.split()).lower())
        return self._quotable[1], self._quotable[2]

    def _synonyms(self, data: IndexData) -> Synonyms:
        return self._vocabulary(data).synonyms

    def search(self, data: IndexData, query: str, top_k: int) -> SearchResponse:
        t0 = time.perf_counter()
        vector = self.embedder.embed_queries([query])[0]
        embed_ms = _ms(t0)
        hits = self._retrieve(data, query, vector)[:top_k]
        return SearchResponse(
            results=[_passage(data, hit) for hit in hits],
            timings_ms={"embed": round(embed_ms, 1), "total": round(_ms(t0), 1)},
        )

    def ask(self, data: IndexData, question: str, history: list[tuple[str, str]] | None = None, top_k: int = 5,
            mode: str | None = None) -> AskResponse:
        response, _ = self.ask_with_assessment(data, question, history, top_k, mode)
        return response

    def ask_with_assessment(self, data: IndexData, question: str, history: list[tuple[str, str]] | None = None,
                            top_k: int = 5, mode: str | None = None,
                            generation: Generation | None = None) -> tuple[AskResponse, Assessment]:
        draft = self._draft(data, question, history or [], top_k)
        response = None
        for kind, payload in self._events(data, draft, mode, generation):
            if kind == "done":
                response = payload
        return response, draft.assessment  # type: ignore[return-value]

    def ask_events(self, data: IndexData, question: str, history: list[tuple[str, str]] | None = None,
                   top_k: int = 5, mode: str | None = None) -> Iterator[tuple[str, object]]:
        """The answer as stream events: ("citations", [...]), ("delta", text)..., ("done", AskResponse).

        The citations event is ready as soon as retrieval and sentence selection are,
        before any answer text; the done event carries the same reply as ``ask``, and its
        answer is always the deltas joined. A generated answer streams verified sentences only.
        """
        yield from self._events(data, self._draft(data, question, history or [], top_k), mode, None)

    def resolve_mode(self, requested: str | None) -> tuple[str, str | None]:
        """(mode to use, fallback reason): generative needs a writer."""
        wanted = requested or self.params.answer_mode
        if wanted == "auto":
            return ("generative" if self.writer is not None else "extractive"), None
        if wanted == "generative" and self.writer is None:
            return "extractive", "llm_not_configured"
        return wanted, None

    def _events(self, data: IndexData, draft: "_Answer", requested: str | None,
                generation: Generation | None) -> Iterator[tuple[str, object]]:
        mode, fallback = self.resolve_mode(requested)
        if mode == "generative" and draft.answerable:
            yield from self._generated(data, draft, generation if generation is not None else Generation())
            return
        if mode == "generative":
            # The documents do not answer: the question never reaches the LLM.
            fallback = "not_answerable"
        yield "citations", draft.citations
        for piece in draft.pieces:
            yield "delta", piece
        yield "done", draft.response(fallback=fallback)

    def _generated(self, data: IndexData, draft: "_Answer", generation: Generation) -> Iterator[tuple[str, object]]:
        """Written sentences, each verified before it is sent; the extractive answer when too
        few survive or the LLM fails (its reason is the reply's ``fallback``)."""
        sources, verifier = self._verifier(data, draft)
        offered = {c.n: c for c in draft.citations}
        hit_of = {data.chunks[h.index].chunk.chunk_id: h for h in draft.hits}
        for source in sources:
            if source.n not in offered:
                offered[source.n] = Citation(n=source.n, **_passage(data, hit_of[source.chunk_id]).model_dump())
        citations = sorted(offered.values(), key=lambda c: c.n)
        yield "citations", citations
        kept: list[Verdict] = []
        fallback: str | None = None

        def written(verdicts: list[Verdict]) -> str:
            return (" " if draft.asked == "en" else "").join(v.rendered(draft.asked) for v in verdicts)

        question = draft.resolved or draft.question
        t_generate = time.perf_counter()
        try:
            for verdict in write_verified(self.writer, verifier, question, sources, draft.asked, generation):
                if verdict.ok:
                    # Latin sentences are spaced; Chinese ones are not.
                    yield "delta", (" " if kept and draft.asked == "en" else "") + verdict.rendered(draft.asked)
                    kept.append(verdict)
        except WriterError as exc:
            fallback = exc.reason
        draft.generate_ms = (time.perf_counter() - t_generate) * 1000
        if generation.first_verified_s is not None:
            draft.first_sentence_ms = (t_generate - draft.started) * 1000 + generation.first_verified_s * 1000
        unsupported = [UnsupportedSentence(text=v.text, reason=v.reason or "", check=v.check) for v in generation.verdicts if not v.ok]
        answer_type = draft.assessment.answer_type
        left_out = missing_parts(question, " ".join(v.text for v in kept), draft.quotes, draft.sides, answer_type,
                                 self._vocabulary(data)) if kept else []
        complete = bool(kept) and type_satisfied(answer_type, [v.text for v in kept], question) and not left_out
        if left_out and fallback is None:
            fallback = "incomplete"  # true sentences, but not the whole answer: the quoted one is
        if complete:
            shown = written(kept)
            used: dict[int, dict[int, Span]] = {}
            for verdict in kept:
                for sentence in verdict.support:
                    n = next(s.n for s in sources if sentence in s.sentences)
                    used.setdefault(n, {})[sentence.span.start] = sentence.span
            cited = [c.model_copy(update={"highlights": [used[c.n][k] for k in sorted(used[c.n])]})
                     for c in citations if c.n in used]
            yield "done", draft.response(answer=shown, citations=cited, mode="generative", unsupported=unsupported)
            return
        # Verified sentences already sent stay; the extractive answer follows them.
        prefix = "\n\n" if kept else ""
        for i, piece in enumerate(draft.pieces):
            yield "delta", (prefix if i == 0 else "") + piece
        shown = written(kept) + prefix + "".join(draft.pieces)
        yield "done", draft.response(answer=shown, fallback=fallback or "unverified", unsupported=unsupported)

    def verifier(self, data: IndexData, question: str, history: list[tuple[str, str]] | None = None,
                 top_k: int = 5) -> tuple[list[OfferedSource], Verifier]:
        """What the writer would be shown for ``question``, and the verifier of what it writes."""
        return self._verifier(data, self._draft(data, question, history or [], top_k))

    def _verifier(self, data: IndexData, draft: "_Answer") -> tuple[list[OfferedSource], Verifier]:
        sources = offer_sources(data, draft.hits, draft.citations, self.params.generation)
        return sources, Verifier(self._vocabulary(data), data.documents, sources, draft.asked, self.embedder.embed_written,
                                 self._source_vectors(data, sources), self.params.generation.verify)

    def _source_vectors(self, data: IndexData, sources: list[OfferedSource]) -> np.ndarray:
        """Unit vectors of the offered sentences: stored at index time where the index has them."""
        table = self._table(data)
        out = []
        for source in sources:
            rows = [table.row_of(source.doc_id, s.span) for s in source.sentences]
            if all(r is not None and r < len(data.sentence_vectors) for r in rows):
                out.append(data.sentence_vectors[rows])
            else:
                out.append(self.embedder.embed_documents([s.text for s in source.sentences],
                                                         title=data.documents[source.doc_id].title))
        dims = data.sentence_vectors.shape[1] if data.sentence_vectors is not None and data.sentence_vectors.ndim == 2 else 0
        return np.concatenate(out) if out else np.zeros((0, dims), dtype=np.float32)

    def _table(self, data: IndexData) -> SentenceTable:
        """The stored sentence vectors' rows, spans and languages (built once per index version)."""
        if self._tables[0] is not data:
            self._tables = (data, SentenceTable(data))
        return self._tables[1]

    def _draft(self, data: IndexData, question: str, history: list[tuple[str, str]], top_k: int) -> "_Answer":
        t0 = time.perf_counter()
        # A follow-up splices an earlier turn into the question: keep the result as bounded as a question.
        resolved = resolve_question(question, history)[:MAX_QUESTION_CHARS]
        synonyms = self._synonyms(data)
        corpus, corpus_text = self._quotable_text(data)
        terms = key_terms(resolved, synonyms)
        sides = comparison_entities(resolved, terms, synonyms) or self._vocabulary(data).coordinated(resolved)
        side_queries = [side_question(resolved, e, [o for o in sides if o != e], synonyms) for e in sides]
        # The question and every side of a comparison in one forward pass.
        vectors = self.embedder.embed_queries([resolved, *side_queries])
        t_embedded = time.perf_counter()
        candidates = self._retrieve(data, resolved, vectors[0])
        hits = candidates[:top_k]
        t_retrieved = time.perf_counter()

        def uncovered(contexts: list[str]) -> list[str]:
            return missing_terms(terms, contexts, synonyms, corpus_text)

        answer_type = expected_answer_type(resolved) or self._vocabulary(data).implied_answer_type(resolved)
        asked = detect_language(question)
        admissible = self._binding(data, resolved, answer_type)

        def can_cover(quote: Quote) -> bool:
            # A sentence only completes the answer if it could answer on its own.
            return quote.cosine >= self.params.min_sentence_cosine and type_satisfied(answer_type, [quote.text], resolved)

        seeds: list[tuple[str, int]] = []
        unanswered_sides: list[str] = []
        for entity, query, vector in zip(sides, side_queries, vectors[1:]):
            side = self._side(data, resolved, entity, query, vector, synonyms, answer_type, admissible.for_side(entity))
            if side is None:
                unanswered_sides.append(entity)
            else:
                candidate, start = side
                if all(h.index != candidate.index for h in hits):
                    hits = hits[: top_k - 1 - len(seeds)] + [candidate] + hits[top_k - 1 - len(seeds):][: len(seeds)]
                seeds.append((data.chunks[candidate.index].chunk.doc_id, start))

        draft = select_quotes(data, resolved, hits, self.params.answer, covers=uncovered, can_cover=can_cover, seeds=seeds,
                              admissible=lambda q: admissible(q.doc_id, q.span.start, q.span.end, q.context),
                              answers=can_cover if answer_type else None)
        # A sentence in a section about X is about X even when it does not say so.
        missing = uncovered([admissible.section(q.doc_id, q.span.start) + " " + q.context for q in draft.quotes])
        vocabulary = self._vocabulary(data)
        missing += [t for t in terms if t not in missing and vocabulary.sibling_unknown(t, corpus, corpus_text)]
        if not missing:
            missing = unbound_terms(terms, [(admissible.section(q.doc_id, q.span.start) + " " + q.context, q.text) for q in draft.quotes],
                                    answer_type, resolved, synonyms, corpus_text)
        typed = type_satisfied(answer_type, [q.text for q in draft.quotes], resolved)
        best_cosine = draft.best.cosine if draft.best else 0.0
        # A question about two sides is answered only when both are.
        rules_pass = bool(draft.quotes) and not missing and typed and not unanswered_sides
        def evidence() -> Evidence | None:
            return self._evidence(draft, hits, resolved, asked, admissible) if draft.quotes else None

        if self.params.refusal is not None and draft.quotes:
            answerable = rules_pass and self.params.refusal.answers(evidence())
        else:
            answerable = rules_pass and best_cosine >= self.params.min_sentence_cosine
        assessment = Assessment(best_cosine, hits[0].score if hits else 0.0, missing, answer_type, typed, answerable,
                                rules_pass, evidence)

        if answerable:
            quotes = draft.quotes
            if asks_for_list(resolved):
                hits, quotes = continue_lists(data, hits, draft.quotes)
            if answer_type == "money":
                pairs = conflicting(draft.quotes, draft.pool, lambda q: admissible.bound_amounts(q.doc_id, q.span.start, q.span.end),
                                    can_cover)
                disputed = {id(other) for _, other in pairs}
                quotes = [replace(q, disputed=True) if id(q) in disputed else q for q in quotes]
                quotes += [replace(other, disputed=True) for _, other in pairs if all(other is not q for q in draft.quotes)]
            hits, quotes = self._in_asked_language(data, hits, quotes, asked,
                                                   lambda q: admissible(q.doc_id, q.span.start, q.span.end, q.context))
            quotes = order_for_reading(quotes, hits, data)
            numbers: dict[int, int] = {}
            for quote in quotes:
                numbers.setdefault(quote.candidate_rank, len(numbers) + 1)
            pieces = answer_pieces(quotes, numbers)
            languages = [detect_language(q.text) for q in quotes]
            # The note goes before the second of two disagreeing figures, whichever reads first.
            for i in sorted({max(i, 1) for i, q in enumerate(quotes) if q.disputed and len(quotes) > 1}, reverse=True):
                pieces.insert(i, NOTES[asked])
                languages.insert(i, asked)
            pieces = introduce(pieces, languages, asked)
            citations = [
                Citation(n=n, highlights=[q.span for q in quotes if q.candidate_rank == rank], **_passage(data, hits[rank]).model_dump())
                for rank, n in numbers.items()
            ]
        else:
            pieces = [refusal(asked, unanswered_sides if len(unanswered_sides) < len(sides) else [])]
            citations = [Citation(n=i + 1, **_passage(data, hit).model_dump()) for i, hit in enumerate(hits[:REFUSAL_CONTEXT])]
        return _Answer(
            answerable=answerable, citations=citations, pieces=pieces, assessment=assessment,
            resolved=resolved if resolved != question.strip() else None, started=t0, embedded=t_embedded, retrieved=t_retrieved,
            question=question.strip(), asked=asked, hits=hits, quotes=quotes if answerable else [], sides=sides,
        )

    @staticmethod
    def _evidence(draft: Draft, hits: list[Candidate], question: str, asked: str, binding: QuestionBinding) -> Evidence:
        best = draft.best
        words = set(tokenize(question))
        seen = set(tokenize(" ".join(binding.section(q.doc_id, q.span.start) + " " + q.context for q in draft.quotes)))
        return Evidence(
            cosine=best.cosine,
            retrieval=hits[0].score if hits else 0.0,
            overlap=len(words & seen) / len(words) if words else 0.0,
            rejected=max(0.0, draft.rejected_cosine - best.cosine),
            foreign=float(detect_language(best.text) != asked),
        )

    def _in_asked_language(self, data: IndexData, hits: list[Candidate], quotes: list[Quote], asked: str,
                           admissible: Callable[[Quote], bool]) -> tuple[list[Candidate], list[Quote]]:
        """Quotes in another language replaced by their translation in the asker's, where the
        documents have one; the translation's passage joins the cited ones."""
        table = self._table(data)
        hits, out = list(hits), []
        for quote in quotes:
            found = table.equivalent(quote.doc_id, quote.span, asked) if detect_language(quote.text) != asked else None
            if found is not None:
                rank = next((i for i, h in enumerate(hits) if h.index == found.chunk_position), None)
                if rank is None:
                    source = hits[quote.candidate_rank]
                    hits.append(Candidate(found.chunk_position, source.dense, 0.0, found.similarity, None, source.score))
                    rank = len(hits) - 1
                chunk = data.chunks[found.chunk_position].chunk
                context = data.documents[found.doc_id].text[max(chunk.start, found.span.start - self.params.answer.context_chars) : found.span.end]
                swapped = Quote(rank, found.doc_id, found.span, found.text, quote.score, quote.cosine, context, quote.disputed)
                twin = next((q for q in out if q.doc_id == swapped.doc_id and q.span == swapped.span), None)
                if twin is not None:  # its translation is quoted already
                    twin.disputed = twin.disputed or quote.disputed
                    continue
                if admissible(swapped):
                    out.append(swapped)
                    continue
            if not any(q.doc_id == quote.doc_id and q.span == quote.span for q in out):
                out.append(quote)
        return hits, out

    def _binding(self, data: IndexData, question: str, answer_type: str | None) -> QuestionBinding:
        return QuestionBinding(self._vocabulary(data), data.documents, question, answer_type,
                               source_names(question))

    def _side(self, data: IndexData, question: str, entity: str, query: str, vector: np.ndarray, synonyms: Synonyms,
              answer_type: str | None, admissible: QuestionBinding) -> tuple[Candidate, int] | None:
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
                if (cosine >= self.params.min_sentence_cosine
                        and (mentions_any(context, names) or admissible.names(chunk.doc_id, span.start, span.end))
                        and admissible(chunk.doc_id, span.start, span.end, context) and type_satisfied(answer_type, [sentence], question) and (best is None or cosine > best[0])):
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
    embedded: float  # the query vectors are ready (cached questions: at once)
    retrieved: float
    question: str = ""
    asked: str = "en"  # the question's language
    hits: list[Candidate] = field(default_factory=list)  # the cited candidates, as numbered by citations
    quotes: list[Quote] = field(default_factory=list)  # what the extractive answer quotes
    sides: list[str] = field(default_factory=list)  # the entities of a comparison
    generate_ms: float | None = None
    first_sentence_ms: float | None = None

    def response(self, *, answer: str | None = None, citations: list[Citation] | None = None, mode: str = "extractive",
                 fallback: str | None = None, unsupported: list[UnsupportedSentence] | None = None) -> AskResponse:
        finished = time.perf_counter()
        # "retrieve" includes "embed" (its meaning before "embed" was reported); "generate" is part of "answer".
        timings = {"embed": round((self.embedded - self.started) * 1000, 1),
                   "retrieve": round((self.retrieved - self.started) * 1000, 1),
                   "answer": round((finished - self.retrieved) * 1000, 1),
                   "total": round((finished - self.started) * 1000, 1)}
        if self.generate_ms is not None:
            timings["generate"] = round(self.generate_ms, 1)
        if self.first_sentence_ms is not None:
            timings["first_sentence"] = round(self.first_sentence_ms, 1)
        return AskResponse(
            answer="".join(self.pieces) if answer is None else answer,
            answerable=self.answerable,
            citations=self.citations if citations is None else citations,
            timings_ms=timings,
            resolved_question=self.resolved,
            confidence=round(self.assessment.best_cosine, 4),
            mode=mode, fallback=fallback, unsupported=unsupported or [],
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
