"""The API's interactive docs at /docs: Swagger UI served from our own origin, with the UI's
security headers. Its files come from the fastapi-offline package (a maintained, vendored copy
of Swagger UI 5), so no page of ours loads anything from another host.

ReDoc is not served: one set of docs is enough, and each is a large script to keep current.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from clientcontact.errors import NotFound
from clientcontact.web.templating import render

router = APIRouter()

SWAGGER_DIR = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"})


@router.get("/docs")
def api_docs(request: Request) -> Response:
    """The page carries the visitor's CSRF token, so "Try it out" works with the login cookie."""
    return render(request, "api_docs.html")


@router.get("/docs/assets/{name}")
def swagger_file(name: str) -> FileResponse:
    if name not in SWAGGER_FILES:
        raise NotFound(f"no docs file {name!r}")
    return FileResponse(SWAGGER_DIR / name,
                        media_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                        headers={"Cache-Control": "public, max-age=86400",
                                 "X-Content-Type-Options": "nosniff"})
