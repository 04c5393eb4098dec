"""The UI's own scripts and styles, served from the package (no build step, no CDN)."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from clientcontact.errors import NotFound
from clientcontact.web.templating import STATIC_DIR, STATIC_FILES, static_url

router = APIRouter()


@router.get("/static/{name}")
def static_file(name: str, v: str | None = None) -> FileResponse:
    """Only files that exist in the package; a versioned URL may be cached for a year."""
    if name not in STATIC_FILES:
        raise NotFound(f"no static file {name!r}")
    fresh = v == STATIC_FILES[name]
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if name.endswith(".LICENSE"):
        media_type = "text/plain"
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers={
        "Cache-Control": "public, max-age=31536000, immutable" if fresh else "no-cache",
        "X-Content-Type-Options": "nosniff"})


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    """Where a browser looks when a page names no icon (the API's JSON answers, say)."""
    return RedirectResponse(static_url("favicon.svg"), status_code=301,
                            headers={"Cache-Control": "public, max-age=86400"})
