"""GET /metrics: Prometheus text format (what is measured: ``service.api.metrics``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from service.api.deps import StateDep
from service.api.metrics import CONTENT_TYPE

router = APIRouter()


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
def metrics(state: StateDep) -> Response:
    """Request counts and latencies, pipeline stages, refusals and fallbacks, uploads, and the
    served index. Needs a read key when `CITEQA_API_KEYS` is set."""
    state.observe()  # the index gauges as of this scrape (the version's age moves on)
    return Response(state.metrics.exposition(), media_type=CONTENT_TYPE)
