from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from service.api.deps import OutcomeDep, ReadyDep, StateDep
from service.schemas import AskRequest, AskResponse, ErrorResponse
from service.api.sse import SSE_HEADERS, sse_event, wants_stream, with_keepalive

router = APIRouter()


@router.post(
    "/v1/ask",
    response_model=AskResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
def ask(body: AskRequest, ready: ReadyDep, outcome: OutcomeDep, state: StateDep,
        accept: str | None = Header(default=None)):
    """Answer a question with cited passages, or refuse when the documents do not answer it.

    With `stream: true` or `Accept: text/event-stream` the reply is Server-Sent Events:
    `citations` (JSON list), `delta` events (`{"text": ...}`), then `done` with the full reply.
    `mode` chooses quoted (`extractive`) or LLM-written, verified (`generative`) answers; the
    reply's `mode` and `fallback` say which answered and why.
    """
    pipeline, index = ready
    history = [(turn.role, turn.content) for turn in body.history]
    if not wants_stream(body.stream, accept):
        reply = pipeline.ask(index, body.question, history, body.top_k, body.mode)
        outcome.answered(reply)
        return reply

    def events() -> Iterator[str]:
        for kind, payload in pipeline.ask_events(index, body.question, history, body.top_k, body.mode):
            if kind == "done":
                outcome.answered(payload)  # type: ignore[arg-type]
            yield sse_event(kind, {"text": payload} if kind == "delta" else payload)

    return StreamingResponse(with_keepalive(events(), state.settings.sse_keepalive_seconds),
                             media_type="text/event-stream", headers=SSE_HEADERS)
