"""Typed objects that cross package boundaries: documents, sentences, chunks, hits."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

# The one rule for document ids, everywhere (API, CLI, upload store): letters (any script),
# digits, '_', and '.'/'-' after the first character; at most 120. An id is also a file name
# in the upload store, so two different ids must never map to one file.
DOC_ID_PATTERN = r"[\w\u4e00-\u9fff][\w\u4e00-\u9fff.-]{0,119}"
_DOC_ID = re.compile(DOC_ID_PATTERN)


# File names are limited to 255 bytes; 120 CJK characters are 360 in UTF-8.
MAX_DOC_ID_BYTES = 200


def is_valid_doc_id(doc_id: str) -> bool:
    # fullmatch, not match + "$": "$" also matches before a trailing newline.
    return _DOC_ID.fullmatch(doc_id) is not None and len(doc_id.encode("utf-8")) <= MAX_DOC_ID_BYTES


class Document(BaseModel):
    """A loaded document; ``text`` is the normalised text that offsets refer to."""

    doc_id: str
    title: str
    source: str
    text: str
    metadata: dict[str, str] = Field(default_factory=dict)


class Span(BaseModel):
    start: int
    end: int


class Chunk(BaseModel):
    """A passage of whole sentences; ``text == document.text[start:end]``."""

    chunk_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    sentences: list[Span]  # absolute offsets of the sentences the chunk holds


class ScoredChunk(BaseModel):
    """A retrieved passage with the scores each retriever gave it."""

    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None
