from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import ReadyDep
from service.errors import ApiError
from service.schemas import AskRequest, AskResponse, ErrorResponse

router = APIRouter()


@router.post("/v1/ask", response_model=AskResponse, responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
def ask(body: AskRequest, ready: ReadyDep) -> AskResponse:
    """Answer a question with cited passages, or refuse when the documents do not answer it."""
    if body.stream:
        raise ApiError(400, "streaming_unsupported", "streaming answers are not available yet; send stream=false")
    pipeline, index = ready
    history = [(turn.role, turn.content) for turn in body.history]
    return pipeline.ask(index, body.question, history, body.top_k)
