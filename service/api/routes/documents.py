"""List, add (JSON or file upload) and remove documents; writes publish a new index version."""

from __future__ import annotations

import errno
import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from index.store import IndexData
from ingest.chunking import chunk_document
from ingest.loaders import SUPPORTED_SUFFIXES, LoaderError, document_from_text, load_file
from ingest.schema import Document
from service.api.deps import ReadGuard, ReadyDep, StateDep, WriteGuard
from service.errors import ApiError
from service.indexing import add_document, remove_document
from service.schemas import DocumentInfo, DocumentsResponse, ErrorResponse, document_info

router = APIRouter()
_DOC_ID = re.compile(r"^[\w\u4e00-\u9fff][\w\u4e00-\u9fff.-]{0,119}$")
# What the first bytes of each binary type must be; text types must not contain NUL.
_MAGIC = {".pdf": (b"%PDF-",), ".docx": (b"PK\x03\x04",)}


class DocumentIn(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1)
    source: str = Field(default="", max_length=2000)
    doc_id: str | None = Field(default=None, pattern=_DOC_ID.pattern)


def _info(index: IndexData, doc_id: str) -> DocumentInfo:
    return document_info(index.documents[doc_id])


@router.get("/v1/documents", response_model=DocumentsResponse, dependencies=[ReadGuard])
def list_documents(ready: ReadyDep) -> DocumentsResponse:
    _, index = ready
    return DocumentsResponse(documents=[_info(index, doc_id) for doc_id in index.documents])


@router.post("/v1/documents", status_code=201, dependencies=[WriteGuard],
             responses={400: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 415: {"model": ErrorResponse},
                        422: {"model": ErrorResponse}})
async def add(request: Request, state: StateDep, ready: ReadyDep) -> JSONResponse:
    """Add or replace a document: multipart upload (`file`, optional `title`, `doc_id`, `source`)
    or JSON `{"title", "text", "source", "doc_id"}`. The new index version serves when this returns."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        doc = await _from_upload(request)
    else:
        doc = _from_json(await request.body())
    settings = state.settings
    chunks = len(chunk_document(doc, settings.chunk_size, settings.chunk_overlap))
    if chunks > settings.max_chunks_per_document:
        raise ApiError(413, "document_too_large",
                       f"the document makes {chunks} passages, more than the limit of {settings.max_chunks_per_document}")
    pipeline, _ = ready
    with _storage_errors():
        index, report = await run_in_threadpool(add_document, settings, pipeline.embedder, doc)
    state.publish(index)
    status = "added" if report.added else "updated" if report.updated else "unchanged"
    body = {"status": status, "index_version": index.manifest.version, "document": _info(index, doc.doc_id).model_dump()}
    return JSONResponse(body, status_code=201 if status == "added" else 200)


@router.delete("/v1/documents/{doc_id}", dependencies=[WriteGuard])
async def remove(doc_id: str, state: StateDep, ready: ReadyDep) -> dict:
    pipeline, index = ready
    if doc_id not in index.documents:
        raise ApiError(404, "not_found", f"no document with id {doc_id!r}")
    with _storage_errors():
        index, _ = await run_in_threadpool(remove_document, state.settings, pipeline.embedder, doc_id)
    state.publish(index)
    return {"deleted": doc_id, "index_version": index.manifest.version}


@contextmanager
def _storage_errors() -> Iterator[None]:
    """A full or failing disk is the server's problem, said plainly; the old version keeps serving."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ApiError(507, "insufficient_storage", "not enough disk space to write the new index version; "
                                                         "the previous version keeps serving") from exc
        raise ApiError(500, "storage_error", f"the new index version could not be written ({exc.strerror}); "
                                             "the previous version keeps serving") from exc


def _from_json(raw: bytes) -> Document:
    try:
        payload = DocumentIn.model_validate(json.loads(raw))
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the request body is not valid JSON: {exc.msg}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(422, "invalid_request", f"{field}: {first['msg']}", field) from exc
    try:
        return document_from_text(payload.text, title=payload.title, source=payload.source or "api", doc_id=payload.doc_id)
    except LoaderError as exc:
        raise ApiError(422, "unreadable_document", str(exc)) from exc


async def _from_upload(request: Request) -> Document:
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ApiError(422, "invalid_request", "multipart upload needs a 'file' field", "file")
    name = upload.filename or ""
    if not name or name != PurePosixPath(name).name or name != PureWindowsPath(name).name or name.startswith(".") or ".." in name:
        raise ApiError(400, "invalid_filename", f"the file name {name!r} must be a plain name without path components")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ApiError(415, "unsupported_media_type", f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    data = await upload.read()
    if not data:
        raise ApiError(422, "unreadable_document", f"{name} is empty")
    magic = _MAGIC.get(suffix)
    if (magic and not data.startswith(magic)) or (not magic and b"\x00" in data[:8192]):
        raise ApiError(415, "unsupported_media_type", f"the content of {name} is not a {suffix} file")
    fields = {k: form.get(k) for k in ("title", "doc_id", "source")}
    doc_id = fields["doc_id"] if isinstance(fields["doc_id"], str) and fields["doc_id"] else None
    if doc_id is not None and not _DOC_ID.match(doc_id):
        raise ApiError(422, "invalid_request", "doc_id: use letters, digits, '-', '_' and '.' (at most 120)", "doc_id")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            doc = load_file(path, doc_id=doc_id or None, title=fields["title"] or None,
                            source=fields["source"] or name)
        except LoaderError as exc:
            raise ApiError(422, "unreadable_document", str(exc).replace(path.name, name)) from exc
    if doc_id is None:
        from ingest.loaders import slugify

        doc = doc.model_copy(update={"doc_id": slugify(Path(name).stem)})
    if doc.title == path.stem:
        doc = doc.model_copy(update={"title": Path(name).stem})
    return doc
