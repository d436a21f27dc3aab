"""One error shape for every failure: {"error": {"code", "message"}}."""

from __future__ import annotations

import json
import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.dense import VectorStoreError
from service.api.logs import request_id

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    408: "request_timeout", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "invalid_request", 429: "rate_limited", 431: "headers_too_large", 503: "not_ready",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param
        self.headers = headers or {}


def _error_type(status: int) -> str:
    # OpenAI's error "type" values, so the official SDKs map errors onto their exception classes.
    return {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
            429: "rate_limit_error"}.get(status, "invalid_request_error" if status < 500 else "server_error")


# An absolute path of two or more components, as library and OS errors print them.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s'\"/:]+/)+([^\s'\"/:]*)")


def redact_paths(message: str) -> str:
    """Server paths say nothing a client needs and map the machine for an attacker: keep the file name."""
    return _ABSOLUTE_PATH.sub(lambda m: "…/" + m.group(1), message)


def error_response(status: int, code: str, message: str, param: str | None = None) -> JSONResponse:
    """The design's {"error": {"code", "message"}}, plus OpenAI's "type" and "param"."""
    body = {"code": code, "message": redact_paths(message), "type": _error_type(status), "param": param}
    return JSONResponse({"error": body}, status_code=status)


def _describe(errors: list[dict]) -> tuple[str, str, str | None]:
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (detail.get("ctx") or {}).get("error", "")
        return "invalid_json", f"the request body is not valid JSON{': ' + reason if reason else ''}", None
    parts = []
    params = []
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        params.append(loc)
        msg = e.get("msg", "invalid value")
        parts.append(f"{loc}: {msg.removeprefix('Value error, ')}")
    return "invalid_request", "; ".join(parts), params[0] if params else None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        response = error_response(exc.status, exc.code, exc.message, exc.param)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message, param = _describe(json.loads(json.dumps(exc.errors(), default=str)))
        return error_response(400 if code == "invalid_json" else 422, code, message, param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        return error_response(exc.status_code, code, message)

    @app.exception_handler(VectorStoreError)
    async def _vector_store(request: Request, exc: VectorStoreError) -> JSONResponse:
        # A remote vector store (Milvus) that is down or failing: the request may succeed later.
        log.error("vector store error on %s %s: %s", request.method, request.url.path, exc)
        return error_response(503, "vector_store_unavailable", f"the vector store failed: {exc}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = error_response(500, "internal_error", "the server failed to handle this request; it has been logged")
        # Answered outside the request-ID middleware (Starlette's outermost error layer): the
        # ID is still in this task's context, so the client can quote it to the operator.
        rid = request_id.get()
        if rid:
            response.headers["X-Request-ID"] = rid
        return response
