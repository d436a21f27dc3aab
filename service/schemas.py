"""Request and response models of the HTTP API (see shared design notes, API v1)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator

from index.store import DocumentRecord
from ingest.schema import Span

MAX_QUESTION_CHARS = 2000
# Earlier turns: only the last user question and answer shape a follow-up, so history is
# bounded per turn and in total (a 20,000-character turn once made a 19,998-character question).
MAX_TURN_CHARS = 4000
MAX_HISTORY_CHARS = 20_000
MAX_HISTORY_TURNS = 20


def utf8_text(value: str) -> str:
    """JSON can carry lone surrogates ("\\ud800") that no UTF-8 consumer (the tokenizer, a log) accepts."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"contains an invalid character (a lone UTF-16 surrogate at position {exc.start}); "
                         "send valid Unicode text") from None
    return value


Utf8Str = Annotated[str, AfterValidator(utf8_text)]


class _Strict(BaseModel):
    # Unknown fields are ignored (forward compatibility); wrong types are rejected, not coerced.
    model_config = ConfigDict(strict=True)


class HistoryTurn(_Strict):
    role: Literal["user", "assistant", "system"]
    content: Utf8Str = Field(max_length=MAX_TURN_CHARS)


def _bounded_history(turns: list[HistoryTurn]) -> list[HistoryTurn]:
    total = sum(len(t.content) for t in turns)
    if total > MAX_HISTORY_CHARS:
        raise ValueError(f"at most {MAX_HISTORY_CHARS} characters in all turns together (got {total})")
    return turns


def _trimmed_question(value: str) -> str:
    utf8_text(value)
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_QUESTION_CHARS:
        raise ValueError(f"must be at most {MAX_QUESTION_CHARS} characters after trimming (got {len(value)})")
    return value


AnswerMode = Literal["extractive", "generative"]


class AskRequest(_Strict):
    question: str
    top_k: int = Field(default=5, ge=1, le=20)
    history: list[HistoryTurn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS)
    stream: bool = False
    # Overrides CITEQA_ANSWER_MODE for this request; "auto" means generative when an LLM is configured.
    mode: AnswerMode | Literal["auto"] | None = None

    @field_validator("question")
    @classmethod
    def _check_question(cls, value: str) -> str:
        return _trimmed_question(value)

    @field_validator("history")
    @classmethod
    def _check_history(cls, value: list[HistoryTurn]) -> list[HistoryTurn]:
        return _bounded_history(value)


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


class UnsupportedSentence(BaseModel):
    """A sentence the LLM wrote that the verifier removed, and why."""

    text: str
    reason: str
    check: str | None = None  # which check failed: language, entity, figure, binding or meaning


class AskResponse(BaseModel):
    answer: str
    answerable: bool
    citations: list[Citation]
    timings_ms: dict[str, float]
    resolved_question: str | None = None  # the standalone question, when history changed it
    # Cosine between the question and the best quotable sentence; answers are refused below a threshold.
    confidence: float | None = None
    mode: AnswerMode = "extractive"  # which mode answered
    # Why another mode answered than the one asked for (e.g. "llm_unavailable"); None when it did not.
    fallback: str | None = None
    unsupported: list[UnsupportedSentence] = Field(default_factory=list)


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
    text: Utf8Str | None = None


# System prompts of chat front ends can be long; citeqa ignores them, but they still cost parsing.
MAX_SYSTEM_CHARS = 20_000


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Utf8Str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""

    @model_validator(mode="after")
    def _bounded(self) -> "ChatMessage":
        limit = MAX_TURN_CHARS if self.role in ("user", "assistant") else MAX_SYSTEM_CHARS
        if len(self.text()) > limit:
            raise ValueError(f"a {self.role} message may have at most {limit} characters (got {len(self.text())})")
        return self


class ChatCompletionRequest(BaseModel):
    model: str = "citeqa"
    messages: list[ChatMessage] = Field(min_length=1, max_length=41)
    # Strict where citeqa acts on the value: "stream": "yes" is an error, as on /v1/ask.
    stream: StrictBool = False
    top_k: StrictInt = Field(default=5, ge=1, le=20)  # citeqa extension; other OpenAI options are accepted and ignored
    mode: AnswerMode | Literal["auto"] | None = None  # citeqa extension, as on /v1/ask
