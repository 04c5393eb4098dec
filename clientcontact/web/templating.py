"""Rendering pages and fragments: every UI response carries the CSP and the page's CSRF token."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from clientcontact.api.csrf import csrf_token_for
from clientcontact.web.presenters import FILTERS
from clientcontact.web.security import SECURITY_HEADERS, csrf_binding

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
# name → short content hash: URLs change when a file does, so browsers may cache forever.
STATIC_FILES = {path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
                for path in sorted(STATIC_DIR.iterdir()) if path.is_file()}


def static_url(name: str) -> str:
    """The URL of one of our static files, versioned by its content."""
    return f"/static/{name}?v={STATIC_FILES[name]}"


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(FILTERS)
templates.env.globals["static_url"] = static_url
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
# Templates ship inside the package: no need to stat every include on every render.
templates.env.auto_reload = False


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def htmx_target(request: Request) -> str | None:
    return request.headers.get("hx-target") if is_htmx(request) else None


def render(request: Request, name: str, context: Mapping[str, Any] | None = None, *,
           status_code: int = 200, headers: Mapping[str, str] | None = None,
           binding: str | None = None) -> HTMLResponse:
    """`binding` overrides the CSRF binding when the cookie is being set by this response."""
    values = {"csrf_token": csrf_token_for(request, binding or csrf_binding(request)),
              **(context or {})}
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    if headers:
        response.headers.update(headers)
    return response
