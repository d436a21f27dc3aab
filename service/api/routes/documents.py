"""List, add (JSON or file upload) and remove documents; writes publish a new index version.

An upload costs three things, each bounded before it is spent: reading the file (a child
process with a memory cap and a deadline, ``ingest.sandbox``), the embedding work its text
causes (passages and sentences counted against the limits first), and the writer lock
(released when the client goes away: the build is cancelled between embedding batches).
Nothing of it runs on the event loop, so /healthz and questions keep answering meanwhile.
"""

from __future__ import annotations

import asyncio
import errno
import json
import threading
import unicodedata
from collections.abc import Iterator
from typing import Annotated
from contextlib import contextmanager
from pathlib import PurePosixPath, PureWindowsPath

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from index.builder import BuildCancelled, IndexSettingsChangedError
from index.store import IndexData
from ingest.loaders import (SUPPORTED_SUFFIXES, DocumentTooLargeError, LoaderError, NotTextError, document_from_text,
                            slugify)
from ingest.sandbox import Parsed, measure, parse_isolated
from ingest.schema import MAX_DOC_ID_BYTES, Document, is_valid_doc_id
from service.api.deps import ReadGuard, ReadyDep, StateDep, WriteGuard
from service.config import Settings
from service.api.errors import ApiError
from service.indexing import DocumentConflictError, WriteResult, add_document, remove_document
from service.schemas import DocumentInfo, DocumentsResponse, ErrorResponse, Utf8Str, document_info

router = APIRouter()
# What the first bytes of each binary type must be.
_MAGIC = {".pdf": (b"%PDF-",), ".docx": (b"PK\x03\x04",)}
_DISCONNECT_POLL_SECONDS = 0.5


_DOC_ID_RULE = (f"use letters, digits, '_', and '.' or '-' after the first (at most 120 characters, "
                f"{MAX_DOC_ID_BYTES} bytes in UTF-8)")


def _checked_doc_id(value: str) -> str:
    if not is_valid_doc_id(value):
        raise ValueError(_DOC_ID_RULE)
    return value


class DocumentIn(BaseModel):
    title: Utf8Str = Field(min_length=1, max_length=500)
    text: Utf8Str = Field(min_length=1)
    source: Utf8Str = Field(default="", max_length=2000)
    doc_id: Annotated[str, AfterValidator(_checked_doc_id)] | None = None


def _info(index: IndexData, doc_id: str) -> DocumentInfo:
    return document_info(index.documents[doc_id])


@router.get("/v1/documents", response_model=DocumentsResponse, dependencies=[ReadGuard])
def list_documents(ready: ReadyDep) -> DocumentsResponse:
    _, index = ready
    return DocumentsResponse(documents=[_info(index, doc_id) for doc_id in index.documents])


@router.post("/v1/documents", status_code=201, dependencies=[WriteGuard],
             responses={400: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
                        415: {"model": ErrorResponse}, 422: {"model": ErrorResponse}})
async def add(request: Request, state: StateDep, ready: ReadyDep) -> JSONResponse:
    """Add or replace a document: multipart upload (`file`, optional `title`, `doc_id`, `source`)
    or JSON `{"title", "text", "source", "doc_id"}`. The new index version serves when this returns.
    A replaced document's earlier version is reported under `replaced` (its sha256 and ingest time)."""
    settings = state.settings
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    with _loader_errors():
        if ctype == "multipart/form-data":
            parsed = await _from_upload(request, settings)
        else:
            doc = _from_json(await request.body())
            parsed = await run_in_threadpool(measure, doc, settings.document_limits(), settings.chunk_size,
                                             settings.chunk_overlap)
    pipeline, _ = ready
    # state.index as the write starts: the newest version this server holds (see base_index).
    result = await _write(request, lambda cancelled: add_document(settings, pipeline.embedder, parsed.document,
                                                                  cancelled=cancelled, served=state.index))
    state.publish(result.index)
    report = result.report
    state.metrics.observe_upload(getattr(request.state, "body_bytes", 0), report.embedded_chunks, report.embed_seconds)
    status = "added" if report.added else "updated" if report.updated else "unchanged"
    body = {"status": status, "index_version": result.index.manifest.version,
            "document": _info(result.index, parsed.document.doc_id).model_dump()}
    if result.replaced is not None:
        body["replaced"] = {"sha256": result.replaced.sha256, "ingested_at": result.replaced.ingested_at}
    return JSONResponse(body, status_code=201 if status == "added" else 200)


@router.delete("/v1/documents/{doc_id}", dependencies=[WriteGuard],
               responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
async def remove(doc_id: str, request: Request, state: StateDep, ready: ReadyDep) -> dict:
    pipeline, index = ready
    if doc_id not in index.documents:
        raise ApiError(404, "not_found", f"no document with id {doc_id!r}")
    result = await _write(request, lambda cancelled: remove_document(state.settings, pipeline.embedder, doc_id,
                                                                     served=state.index))
    state.publish(result.index)
    return {"deleted": doc_id, "index_version": result.index.manifest.version}


async def _write(request: Request, write) -> WriteResult:
    """Run ``write(cancelled)`` in a worker thread; ``cancelled()`` turns true when the client disconnects."""
    gone = threading.Event()

    async def watch() -> None:
        while not await request.is_disconnected():
            await asyncio.sleep(_DISCONNECT_POLL_SECONDS)
        gone.set()

    watcher = asyncio.create_task(watch())
    try:
        with _storage_errors():
            return await run_in_threadpool(write, gone.is_set)
    except BuildCancelled as exc:
        # Nobody is listening any more; the status is for the log.
        raise ApiError(400, "cancelled", "the client disconnected before the write finished; nothing was changed") from exc
    except DocumentConflictError as exc:
        raise ApiError(409, "conflict", str(exc), "doc_id") from exc
    except IndexSettingsChangedError as exc:  # the live version was built by a writer with other settings
        raise ApiError(409, "index_settings_changed", str(exc)) from exc
    finally:
        watcher.cancel()


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


@contextmanager
def _loader_errors() -> Iterator[None]:
    try:
        yield
    except DocumentTooLargeError as exc:
        raise ApiError(413, "document_too_large", str(exc)) from exc
    except NotTextError as exc:
        raise ApiError(415, "unsupported_media_type", str(exc)) from exc
    except LoaderError as exc:
        raise ApiError(422, "unreadable_document", str(exc)) from exc


def _from_json(raw: bytes) -> Document:
    try:
        payload = DocumentIn.model_validate(json.loads(raw))
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the request body is not valid JSON: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_json", "the request body is not UTF-8") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(422, "invalid_request", f"{field}: {first['msg'].removeprefix('Value error, ')}", field) from exc
    return document_from_text(payload.text, title=payload.title, source=payload.source or "api", doc_id=payload.doc_id)


def _form_text(value: object, field: str, max_length: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid_request", f"{field}: must be a text field, not a file", field)
    if len(value) > max_length or any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise ApiError(422, "invalid_request", f"{field}: at most {max_length} characters, no control characters", field)
    return value


async def _from_upload(request: Request, settings: Settings) -> Parsed:
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ApiError(422, "invalid_request", "multipart upload needs a 'file' field", "file")
    name = upload.filename or ""
    if (not name or name != PurePosixPath(name).name or name != PureWindowsPath(name).name or name.startswith(".")
            or not name.isprintable() or len(name) > 255):
        raise ApiError(400, "invalid_filename", f"the file name {name!r} must be a plain name without path components "
                                                "or control characters (at most 255 characters)")
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ApiError(415, "unsupported_media_type", f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    data = await upload.read()
    await upload.close()
    if not data:
        raise ApiError(422, "unreadable_document", f"{name} is empty")
    magic = _MAGIC.get(suffix)
    if magic and not data.startswith(magic):
        raise ApiError(415, "unsupported_media_type", f"the content of {name} is not a {suffix} file")
    doc_id = _form_text(form.get("doc_id"), "doc_id", 120)
    if doc_id is not None and not is_valid_doc_id(doc_id):
        raise ApiError(422, "invalid_request", f"doc_id: {_DOC_ID_RULE}", "doc_id")
    if doc_id is None:
        doc_id = slugify(PurePosixPath(name).stem)  # a LoaderError (422) when the name has no letters or digits
    title = _form_text(form.get("title"), "title", 500)
    source = _form_text(form.get("source"), "source", 2000)
    return await run_in_threadpool(parse_isolated, data, name, doc_id=doc_id, title=title, source=source or name,
                                   limits=settings.document_limits(), chunk_size=settings.chunk_size,
                                   chunk_overlap=settings.chunk_overlap, budget=settings.parse_budget())
