"""OpenAI Chat Completions compatibility: `/v1/chat/completions` and `/v1/models`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from service.api.deps import OutcomeDep, ReadyDep, StateDep
from service.api.markdown import inert
from service.api.errors import ApiError
from service.schemas import (MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, AskResponse,
                             ChatCompletionRequest, Citation)
from service.api.sse import SSE_HEADERS, sse_event, wants_stream, with_keepalive

router = APIRouter()
MODEL_ID = "citeqa"
_CREATED = int(time.time())


@router.get("/v1/models")
def list_models() -> dict:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": _CREATED, "owned_by": "citeqa"}]}


def _question_and_history(body: ChatCompletionRequest) -> tuple[str, list[tuple[str, str]]]:
    turns = [(m.role, m.text()) for m in body.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user":
        raise ApiError(422, "invalid_request", "messages: the last user or assistant message must be from the user", "messages")
    question = turns[-1][1].strip()
    if not question:
        raise ApiError(422, "invalid_request", "messages: the last user message is empty", "messages")
    if len(question) > MAX_QUESTION_CHARS:
        raise ApiError(422, "invalid_request", f"messages: the question must be at most {MAX_QUESTION_CHARS} characters", "messages")
    # The most recent earlier turns that fit the history budget; older ones do not shape a follow-up.
    history: list[tuple[str, str]] = []
    budget = MAX_HISTORY_CHARS
    for role, text in reversed(turns[:-1][-MAX_HISTORY_TURNS:]):
        budget -= len(text)
        if budget < 0:
            break
        history.insert(0, (role, text))
    return question, history


def source_list(citations: list[Citation]) -> str:
    """The numbered sources appended to the assistant message, for clients that show only text."""
    if not citations:
        return ""
    lines = [f"[{c.n}] {inert(c.title)} — {inert(c.source)} ({inert(c.chunk_id)})" for c in citations]
    return "\n\nSources:\n" + "\n".join(lines)


def _usage(question: str, content: str) -> dict[str, int]:
    # Approximate: citeqa runs no token-based model, so characters stand in for tokens.
    return {"prompt_tokens": len(question), "completion_tokens": len(content), "total_tokens": len(question) + len(content)}


@router.post("/v1/chat/completions")
def chat_completions(body: ChatCompletionRequest, ready: ReadyDep, outcome: OutcomeDep, state: StateDep,
                     accept: str | None = Header(default=None)):
    """OpenAI-compatible: the last user message is the question, earlier messages are the history."""
    pipeline, index = ready
    question, history = _question_and_history(body)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())

    if not wants_stream(body.stream, accept):
        reply = pipeline.ask(index, question, history, body.top_k, body.mode)
        outcome.answered(reply)
        content = inert(reply.answer) + (source_list(reply.citations) if reply.answerable else "")
        return {
            "id": completion_id, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop", "logprobs": None}],
            "usage": _usage(question, content),
            "citations": [c.model_dump() for c in reply.citations],
            "answerable": reply.answerable,
            "mode": reply.mode, "fallback": reply.fallback,
            "unsupported": [u.model_dump() for u in reply.unsupported],
        }

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        payload = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return sse_event(None, payload)

    def events() -> Iterator[str]:
        citations: list[Citation] = []
        sent = ""  # the content so far, for escapes that depend on what came before
        for kind, payload in pipeline.ask_events(index, question, history, body.top_k, body.mode):
            if kind == "citations":
                citations = payload  # type: ignore[assignment]
                yield chunk({"role": "assistant", "content": ""}, citations=[c.model_dump() for c in citations])
            elif kind == "delta":
                piece = inert(payload, sent)  # type: ignore[arg-type]
                sent += piece
                yield chunk({"content": piece})
            elif kind == "done":
                reply: AskResponse = payload  # type: ignore[assignment]
                outcome.answered(reply)
                if reply.answerable:
                    yield chunk({"content": source_list(reply.citations)})
                yield chunk({}, "stop", citations=[c.model_dump() for c in reply.citations], answerable=reply.answerable,
                            mode=reply.mode, fallback=reply.fallback)
        yield sse_event(None, "[DONE]")

    return StreamingResponse(with_keepalive(events(), state.settings.sse_keepalive_seconds),
                             media_type="text/event-stream", headers=SSE_HEADERS)
