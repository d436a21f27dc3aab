from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import OutcomeDep, ReadyDep
from service.schemas import ErrorResponse, SearchRequest, SearchResponse

router = APIRouter()


@router.post("/v1/search", response_model=SearchResponse, responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
def search(body: SearchRequest, ready: ReadyDep, outcome: OutcomeDep) -> SearchResponse:
    """Ranked passages for a query, without an answer."""
    pipeline, index = ready
    reply = pipeline.search(index, body.query, body.top_k)
    outcome.searched(reply)
    return reply
