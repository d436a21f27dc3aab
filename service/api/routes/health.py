from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.api.deps import StateDep

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (the index may still be loading)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(state: StateDep) -> JSONResponse:
    """200 with document and chunk counts once the index serves; 503 before."""
    index = state.index
    if not state.ready or index is None:
        message = state.error or "loading the model and the index"
        return JSONResponse({"status": "not_ready", "error": {"code": "not_ready", "message": message}}, status_code=503)
    return JSONResponse({
        "status": "ready",
        "index_version": index.manifest.version,
        "documents": len(index.documents),
        "chunks": len(index.chunks),
        "model": index.manifest.model_id,
        "created_at": index.manifest.created_at,
    })
