"""Typed objects that cross package boundaries: documents, sentences, chunks, hits."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
