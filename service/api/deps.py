"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from index.store import IndexData
from service.api.errors import ApiError
from service.qa.pipeline import QAPipeline
from service.api.state import AppState


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


StateDep = Annotated[AppState, Depends(get_state)]
ReadGuard = Depends(guard_read)
WriteGuard = Depends(guard_write)
ReadyDep = Annotated[tuple[QAPipeline, IndexData], Depends(ready_pipeline)]
