"""The FastAPI application: routes, error shape, guards, and the loaded index."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from index.embedder import Embedder
from fastapi.middleware.cors import CORSMiddleware

from service.api.access import HEADER as REQUEST_ID_HEADER, RequestContext
from service.api.routes import ask, documents, health, metrics, openai_compat, search, widget
from service.api.deps import ReadGuard
from service.config import Settings
from service.api.errors import install_error_handlers
from service.schemas import ErrorResponse
from service.api.middleware import AccessGuard, BodyGuard
from service.api.state import AppState


_READ_ROUTERS = (ask, search, openai_compat)
_OWN_GUARD_ROUTERS = (documents, health, metrics)  # these set their own guards per route
_ROUTERS = (*_READ_ROUTERS, *_OWN_GUARD_ROUTERS, widget)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None, load_in_background: bool = True) -> FastAPI:
    """``embedder`` lets a caller that already holds the model (tests, the CLI) share it."""
    settings = settings or Settings()
    state = AppState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Loading takes seconds; /healthz answers meanwhile and /readyz says when it is done.
        if load_in_background:
            threading.Thread(target=state.load, kwargs={"embedder": embedder}, name="citeqa-load", daemon=True).start()
        else:
            state.load(embedder)
        threading.Thread(target=state.watch, name="citeqa-watch", daemon=True).start()
        yield
        state.stop()

    app = FastAPI(
        title="citeqa",
        version="0.1.0",
        description="Answers questions about your documents with cited passages, or refuses.",
        lifespan=lifespan,
    )
    app.state.citeqa = state
    install_error_handlers(app)
    app.add_middleware(BodyGuard, max_body_bytes=settings.max_body_bytes,
                       limits={"/v1/documents": settings.max_upload_bytes}, idle_timeout=settings.body_timeout_seconds)
    # Outside BodyGuard: a request without a valid key is answered before its body is read.
    app.add_middleware(AccessGuard, settings=settings, limiter=state.limiter)
    # Added last so it is outermost: errors from the guards carry CORS headers too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "Accept", REQUEST_ID_HEADER],
        expose_headers=[REQUEST_ID_HEADER],
        max_age=600,
    )
    # Outermost: every response, refusals by the guards and CORS preflights included, gets an ID.
    # The routers' own routes name the requests answered before routing (included without prefixes).
    routes = [route for module in _ROUTERS for route in module.router.routes]
    app.add_middleware(RequestContext, metrics=state.metrics, routes=routes)
    # Every error has the same documented shape, so clients and schema fuzzers can rely on it.
    errors = {status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 408, 413, 415, 422, 429, 503)}
    for module in _READ_ROUTERS:
        app.include_router(module.router, dependencies=[ReadGuard], responses=errors)
    for module in _OWN_GUARD_ROUTERS:
        app.include_router(module.router, responses=errors)
    app.include_router(widget.router)
    return app
