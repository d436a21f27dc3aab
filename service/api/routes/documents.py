from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import ReadyDep
from service.schemas import DocumentInfo, DocumentsResponse

router = APIRouter()


@router.get("/v1/documents", response_model=DocumentsResponse)
def list_documents(ready: ReadyDep) -> DocumentsResponse:
    _, index = ready
    return DocumentsResponse(documents=[
        DocumentInfo(doc_id=d.doc_id, title=d.title, source=d.source, chunks=d.chunks, sha256=d.sha256,
                     ingested_at=d.ingested_at, metadata=d.metadata)
        for d in index.documents.values()
    ])
