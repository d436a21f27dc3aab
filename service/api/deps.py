"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from index.store import IndexData
from service.errors import ApiError
from service.pipeline import QAPipeline
from service.state import AppState


def get_state(request: Request) -> AppState:
    return request.app.state.citeqa


def ready_pipeline(state: Annotated[AppState, Depends(get_state)]) -> tuple[QAPipeline, IndexData]:
    # Read both once: a concurrent index swap must not mix two versions in one request.
    pipeline, index = state.pipeline, state.index
    if pipeline is None or index is None:
        raise ApiError(503, "not_ready", f"the index is not loaded yet{': ' + state.error if state.error else ''}")
    return pipeline, index


StateDep = Annotated[AppState, Depends(get_state)]
ReadyDep = Annotated[tuple[QAPipeline, IndexData], Depends(ready_pipeline)]
