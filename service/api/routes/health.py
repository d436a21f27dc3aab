from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.api.deps import StateDep
from service.api.errors import error_response

router = APIRouter()


@router.api_route("/healthz", methods=["GET", "HEAD"])
def healthz() -> dict[str, str]:
    """The process is alive (the index may still be loading)."""
    return {"status": "ok"}


@router.api_route("/readyz", methods=["GET", "HEAD"])
def readyz(state: StateDep) -> JSONResponse:
    """200 with document and chunk counts once the index serves; 503 before."""
    index = state.index
    if not state.ready or index is None:
        message = state.error or "loading the model and the index"
        return error_response(503, "not_ready", message)
    return JSONResponse({
        "status": "ready",
        "index_version": index.manifest.version,
        "documents": len(index.documents),
        "chunks": len(index.chunks),
        "model": index.manifest.model_id,
        "created_at": index.manifest.created_at,
    })
