"""The embeddable chat widget and a demo page that embeds it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent.parent / "static"


@lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> Response:
    return Response(_asset("widget.js"), media_type="application/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


@router.get("/", include_in_schema=False)
def demo_page() -> HTMLResponse:
    # Same-origin URLs only: nothing on the page comes from the request (a forged Host header
    # must not decide where the page loads its script from).
    return HTMLResponse(_asset("demo.html"))
