"""Request and response models of the HTTP API (see shared design notes, API v1)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from index.store import DocumentRecord
from ingest.schema import Span

MAX_QUESTION_CHARS = 2000


class _Strict(BaseModel):
    # Unknown fields are ignored (forward compatibility); wrong types are rejected, not coerced.
    model_config = ConfigDict(strict=True)


class HistoryTurn(_Strict):
    role: Literal["user", "assistant", "system"]
    content: str = Field(max_length=20_000)


def _trimmed_question(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_QUESTION_CHARS:
        raise ValueError(f"must be at most {MAX_QUESTION_CHARS} characters after trimming (got {len(value)})")
    return value


class AskRequest(_Strict):
    question: str
    top_k: int = Field(default=5, ge=1, le=20)
    history: list[HistoryTurn] = Field(default_factory=list, max_length=20)
    stream: bool = False

    @field_validator("question")
    @classmethod
    def _check_question(cls, value: str) -> str:
        return _trimmed_question(value)


class SearchRequest(_Strict):
    query: str
    top_k: int = Field(default=10, ge=1, le=50)

    @field_validator("query")
    @classmethod
    def _check_query(cls, value: str) -> str:
        return _trimmed_question(value)


class Passage(BaseModel):
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str
    start: int
    end: int
    score: float


class Citation(Passage):
    n: int
    # Offsets (into the document, like start/end) of the sentences the answer quotes.
    highlights: list[Span] = Field(default_factory=list)


class AskResponse(BaseModel):
    answer: str
    answerable: bool
    citations: list[Citation]
    timings_ms: dict[str, float]
    resolved_question: str | None = None  # the standalone question, when history changed it
    # Cosine between the question and the best quotable sentence; answers are refused below a threshold.
    confidence: float | None = None


class SearchResponse(BaseModel):
    results: list[Passage]
    timings_ms: dict[str, float] = Field(default_factory=dict)


class DocumentInfo(BaseModel):
    doc_id: str
    title: str
    source: str
    chunks: int
    sha256: str
    ingested_at: str
    metadata: dict[str, str] = Field(default_factory=dict)


def document_info(record: DocumentRecord) -> DocumentInfo:
    return DocumentInfo(doc_id=record.doc_id, title=record.title, source=record.source, chunks=record.chunks,
                        sha256=record.sha256, ingested_at=record.ingested_at, metadata=record.metadata)


class DocumentsResponse(BaseModel):
    documents: list[DocumentInfo]


class ErrorDetail(BaseModel):
    code: str
    message: str
    type: str | None = None  # OpenAI-style error type, for the official SDKs
    param: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


# OpenAI Chat Completions compatibility (the subset a chat front end sends).


class ContentPart(BaseModel):
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model: str = "citeqa"
    messages: list[ChatMessage] = Field(min_length=1, max_length=41)
    stream: bool = False
    top_k: int = Field(default=5, ge=1, le=20)  # citeqa extension; other OpenAI options are accepted and ignored
