"""Generative answers: what the writer is shown, and its stream cut into sentences to verify.

The writer sees the passages the extractive answer cites, numbered as that answer numbers
them (so one ``citations`` event serves the written answer and its extractive fallback),
then further retrieved passages. Of each passage it sees only the sentences worth citing
(the quoted ones and the best-scoring ones) with their neighbours, which keeps the prompt
near 250 tokens: on a CPU the prompt, not the answer, decides the time to the first word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from index.store import IndexData
from ingest.schema import Span
from service.qa.quoting import quotable
from service.qa.retrieval import Candidate
from service.qa.verify import MARKER, OfferedSource, SourceSentence, Verdict, Verifier, VerifyParams
from service.qa.writer import NumberedSource, Writer, WriterParams, WriterStats
from service.schemas import Citation


@dataclass(frozen=True)
class GenerationParams:
    writer: WriterParams = field(default_factory=WriterParams)
    verify: VerifyParams = field(default_factory=VerifyParams)
    max_sources: int = 3
    best_sentences: int = 1  # per passage, besides the quoted ones; each comes with its neighbours
    source_chars: int = 220  # per passage shown to the writer (quoted sentences always fit)
    min_sentence_chars: int = 8
    context_chars: int = 40


def offer_sources(data: IndexData, hits: list[Candidate], citations: list[Citation],
                  params: GenerationParams) -> list[OfferedSource]:
    by_chunk = {data.chunks[h.index].chunk.chunk_id: h for h in hits}
    chosen: list[tuple[int, Candidate, list[Span]]] = []
    for citation in citations:
        hit = by_chunk.get(citation.chunk_id)
        if hit is not None:
            chosen.append((citation.n, hit, list(citation.highlights)))
    used = {id(h) for _, h, _ in chosen}
    n = max((c.n for c in citations), default=0)
    for hit in hits:
        if len(chosen) >= params.max_sources:
            break
        if id(hit) not in used:
            n += 1
            chosen.append((n, hit, []))
            used.add(id(hit))
    out = []
    for number, hit, highlights in chosen[: max(params.max_sources, len(citations))]:
        sentences = _passage_sentences(data, hit, highlights, params)
        if sentences:
            chunk = data.chunks[hit.index].chunk
            out.append(OfferedSource(number, chunk.doc_id, chunk.chunk_id, data.documents[chunk.doc_id].title, chunk.text, tuple(sentences)))
    return out


def _passage_sentences(data: IndexData, hit: Candidate, highlights: list[Span],
                       params: GenerationParams) -> list[SourceSentence]:
    chunk = data.chunks[hit.index].chunk
    text = data.documents[chunk.doc_id].text
    spans = list(chunk.sentences)
    usable = [i for i, s in enumerate(spans) if quotable(text, s, params.min_sentence_chars)]
    if not usable:
        return []
    scores = list(hit.sentence_scores) if hit.sentence_scores is not None else [0.0] * len(spans)
    quoted = {i for i, s in enumerate(spans) if any(h.start < s.end and s.start < h.end for h in highlights)}
    ranked = list(dict.fromkeys([*sorted(quoted), *sorted(usable, key=lambda i: -scores[i])[: params.best_sentences]]))
    keep: list[int] = []
    for i in ranked:  # most wanted first, each followed by its neighbours, until the budget is spent
        for j in (i, i - 1, i + 1):
            if j in usable and j not in keep:
                if keep and sum(spans[k].end - spans[k].start for k in keep) + spans[j].end - spans[j].start > params.source_chars \
                        and j not in quoted:
                    continue
                keep.append(j)
    return [SourceSentence(chunk.doc_id, spans[i], text[spans[i].start : spans[i].end],
                           text[max(chunk.start, spans[i].start - params.context_chars) : spans[i].end])
            for i in sorted(keep)]


# Where a written sentence ends: a stop (a Latin full stop only before a space, so "2.3" is no
# end), closing quotes, then any citation markers, which belong to the sentence before them.
_END = re.compile(r"(?:[。！？!?；;]|\.(?=\s)|\n)[”’\"'」』）)]*(?:" + MARKER.pattern + r")*")


class SentenceCutter:
    """Streamed text in, whole sentences out, as soon as each is known to be complete."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        out = []
        while True:
            cut = None
            for m in _END.finditer(self._buffer):
                rest = self._buffer[m.end():].lstrip()
                # Complete only once something other than a (possibly half-written) marker follows.
                if rest and rest[0] not in "[【［":
                    cut = m.end()
                    break
            if cut is None:
                return out
            sentence, self._buffer = self._buffer[:cut], self._buffer[cut:]
            if sentence.strip():
                out.append(sentence.strip())

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []


@dataclass
class Generation:
    """What one written answer did, for the reply and for evaluation."""

    verdicts: list[Verdict] = field(default_factory=list)
    stats: WriterStats = field(default_factory=WriterStats)
    sources: list[tuple[int, str]] = field(default_factory=list)  # what the writer was shown
    first_verified_s: float | None = None


def write_verified(writer: Writer, verifier: Verifier, question: str, sources: list[OfferedSource], language: str,
                   generation: Generation) -> Iterator[Verdict]:
    """Verdicts on the written sentences, each as soon as it is complete; raises ``WriterError``."""
    import time

    started = time.perf_counter()
    cutter = SentenceCutter()
    numbered = [NumberedSource(s.n, s.title, s.text) for s in sources]
    generation.sources = [(s.n, s.text) for s in numbered]

    def judged(pieces: list[str]) -> Iterator[Verdict]:
        for piece in pieces:
            verdict = verifier.check(piece)
            if verdict is None:
                continue
            generation.verdicts.append(verdict)
            if verdict.ok and generation.first_verified_s is None:
                generation.first_verified_s = time.perf_counter() - started
            yield verdict

    for delta in writer.stream(question, numbered, language, generation.stats):
        yield from judged(cutter.feed(delta))
    yield from judged(cutter.flush())
