"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from index.store import IndexData
from service.api.errors import ApiError
from service.qa.pipeline import QAPipeline
from service.api.state import AppState
from service.schemas import AskResponse, SearchResponse


def get_state(request: Request) -> AppState:
    return request.app.state.citeqa


def ready_pipeline(state: Annotated[AppState, Depends(get_state)]) -> tuple[QAPipeline, IndexData]:
    # Read both once: a concurrent index swap must not mix two versions in one request.
    pipeline, index = state.pipeline, state.index
    if pipeline is None or index is None:
        raise ApiError(503, "not_ready", f"the index is not loaded yet{': ' + state.error if state.error else ''}")
    return pipeline, index


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# Keys are checked earlier, from the headers alone (service.api.middleware.AccessGuard); these
# count what an authorised client sends.
def guard_read(request: Request, state: Annotated[AppState, Depends(get_state)]) -> None:
    state.limiter.check(_client(request), "reads")


def guard_write(request: Request, state: Annotated[AppState, Depends(get_state)]) -> None:
    state.limiter.check(_client(request), "writes")


class Outcome:
    """What a route reports once it knows it: metrics, and the access log line's outcome fields."""

    def __init__(self, request: Request, state: Annotated[AppState, Depends(get_state)]) -> None:
        self.request = request
        self.metrics = state.metrics

    def answered(self, reply: AskResponse) -> None:
        # request.state is the ASGI scope's "state": the access middleware reads it after the last byte.
        self.request.state.answerable = reply.answerable
        self.request.state.mode = reply.mode
        self.metrics.observe_ask(reply, self.request.url.path)

    def searched(self, reply: SearchResponse) -> None:
        self.metrics.observe_search(reply)


StateDep = Annotated[AppState, Depends(get_state)]
ReadGuard = Depends(guard_read)
WriteGuard = Depends(guard_write)
OutcomeDep = Annotated[Outcome, Depends(Outcome)]
ReadyDep = Annotated[tuple[QAPipeline, IndexData], Depends(ready_pipeline)]
