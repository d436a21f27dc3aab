"""Quote in the asker's language when the documents say the same thing in it.

A translated document (the bundled article's English version is paragraph-aligned) states
each fact twice, and retrieval finds whichever rendering is closer to the question, often the
one in the other language. The embedding model is multilingual, so the two renderings of one
sentence have close sentence vectors: the equivalent is the nearest sentence in the asker's
language, accepted only above a similarity that translations reach and neighbouring
sentences do not (measured in ``evals/REPORT.md``). Without stored sentence vectors there is
no table, and the answer introduces the foreign quote instead.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from index.store import IndexData
from ingest.schema import Span
from service.qa.language import detect_language
from service.qa.quoting import quotable


@dataclass(frozen=True)
class Equivalent:
    chunk_position: int  # in IndexData.chunks
    doc_id: str
    span: Span
    text: str
    similarity: float


class SentenceTable:
    """Every stored sentence vector's document, span, passage and language, for one index version."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        self._rows: list[tuple[str, int]] = []  # row -> (doc_id, sentence number)
        self._first_row: dict[str, int] = {}
        chunk_starts: dict[str, list[tuple[int, int]]] = {}
        for position, record in enumerate(data.chunks):
            chunk_starts.setdefault(record.chunk.doc_id, []).append((record.chunk.start, position))
        self._chunks = {doc_id: sorted(starts) for doc_id, starts in chunk_starts.items()}
        total = len(data.sentence_vectors) if data.sentence_vectors is not None else 0
        self._rows = [("", -1)] * total
        languages = [""] * total  # rows of removed documents keep "" and never match
        for doc_id, doc in data.documents.items():
            if not doc.sentence_vectors:
                continue
            self._first_row[doc_id] = doc.sentence_row
            for number, span in enumerate(doc.sentences):
                row = doc.sentence_row + number
                if row < total:
                    self._rows[row] = (doc_id, number)
                    # A reference entry restates a title in the other language; it is never a translation to quote.
                    if quotable(doc.text, span, 1):
                        languages[row] = detect_language(doc.text[span.start : span.end])
        self._languages = np.array(languages)

    def row_of(self, doc_id: str, span: Span) -> int | None:
        doc = self.data.documents[doc_id]
        if doc_id not in self._first_row:
            return None
        starts = [s.start for s in doc.sentences]
        number = bisect_right(starts, span.start) - 1
        return self._first_row[doc_id] + number if number >= 0 and starts[number] == span.start else None

    def equivalent(self, doc_id: str, span: Span, language: str, min_similarity: float = 0.78,
                   min_margin: float = 0.05) -> Equivalent | None:
        """The sentence in ``language`` that says what (doc_id, span) says, if one is close enough."""
        row = self.row_of(doc_id, span)
        if row is None or row >= len(self._rows):
            return None
        similarities = self.data.sentence_vectors @ self.data.sentence_vectors[row]
        similarities[self._languages != language] = -1.0
        best, second = (int(i) for i in np.argsort(-similarities)[:2])
        # A translation stands out; a sentence merely on the same topic has rivals close to it.
        if similarities[best] < min_similarity or similarities[best] - similarities[second] < min_margin:
            return None
        other_id, number = self._rows[best]
        doc = self.data.documents[other_id]
        found = doc.sentences[number]
        starts = self._chunks[other_id]
        # The passage holding the sentence: the last one starting at or before it.
        position = starts[max(0, bisect_right([s for s, _ in starts], found.start) - 1)][1]
        return Equivalent(position, other_id, Span(start=found.start, end=found.end),
                          doc.text[found.start : found.end], float(similarities[best]))
