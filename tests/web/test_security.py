"""CSRF on every state-changing UI request, a strict CSP on pages, no inline script anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from clientcontact import web
from clientcontact.content.sanitize import sanitize_html
from clientcontact.conversations.models import Message
from tests.builders import customer_writes
from tests.harness import Api
from tests.web.helpers import htmx, log_in_http

TEMPLATES = Path(web.__file__).parent / "templates"


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every UI route with its full path (FastAPI keeps included routers nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes,
                               prefix + route.include_context.prefix)


STATE_CHANGING = sorted({(method, path) for path, route in _routes(web.router.routes)
                         for method in route.methods if method not in ("GET", "HEAD")})


def _concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "1", path)


@pytest.mark.parametrize(("method", "path"), STATE_CHANGING)
def test_every_state_changing_request_needs_the_token(ui: httpx.Client, api: Api,
                                                      method: str, path: str) -> None:
    log_in_http(ui, api.alice)
    answer = ui.request(method, _concrete(path), data={"text": "x"},
                        headers={"HX-Request": "true"})
    assert answer.status_code == 403, path
    assert "came from another site" in answer.json()["error"]["message"]


def test_the_check_covers_every_form() -> None:
    assert len(STATE_CHANGING) >= 15  # logout, compose, update, retry, contacts, admin …


def test_another_sessions_token_is_refused(ui: httpx.Client, api: Api) -> None:
    thread = customer_writes(api, api.alice)
    with httpx.Client(base_url=api.server.base_url) as other:
        bobs_token = log_in_http(other, api.bob)
    log_in_http(ui, api.alice)
    answer = ui.post(f"/conversations/{thread.conversation_id}/compose",
                     data={"mode": "note", "text": "hi"}, headers=htmx(bobs_token))
    assert answer.status_code == 403


def test_pages_carry_a_policy_without_inline_script(ui: httpx.Client, api: Api) -> None:
    thread = customer_writes(api, api.alice)
    log_in_http(ui, api.alice)
    for path in ("/login", "/", f"/conversations/{thread.conversation_id}", "/admin/agents"):
        answer = ui.get(path)
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'none'" in policy
        assert answer.headers["x-frame-options"] == "DENY"
        assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), path


def test_templates_hold_no_inline_handlers_or_styles() -> None:
    """The CSP would block them anyway; this keeps them from being written at all."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert not re.search(r"\sstyle\s*=", text), template.name
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name


def test_static_files_come_from_the_package_only(ui: httpx.Client) -> None:
    assert ui.get("/static/htmx.min.js").status_code == 200
    assert ui.get("/static/..%2fsecurity.py").status_code == 404
    assert ui.get("/static/nothing.js").status_code == 404
    versioned = ui.get("/static/app.js", params={"v": "0"})
    assert versioned.headers["cache-control"] == "no-cache"  # only the current hash is cached


def test_a_customers_text_is_shown_as_text(ui: httpx.Client, api: Api) -> None:
    thread = customer_writes(api, api.alice, text="<img src=x onerror=alert(1)> hi",
                             subject="<b>bold</b>")
    log_in_http(ui, api.alice)
    for page in (ui.get("/").text, ui.get(f"/conversations/{thread.conversation_id}").text):
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; hi" in page
        assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_remote_images_wait_until_the_agent_asks(ui: httpx.Client, api: Api) -> None:
    thread = customer_writes(api, api.alice)
    html = sanitize_html('<p>Hi</p><img src="https://tracker.example/pixel.gif">').html
    with api.session() as session:
        session.get(Message, thread.message_id).html = html
    log_in_http(ui, api.alice)
    page = ui.get(f"/conversations/{thread.conversation_id}").text
    assert f'href="/messages/{thread.message_id}/body?images=true"' in page
    hidden = ui.get(f"/messages/{thread.message_id}/body")
    assert ' src="https://tracker.example' not in hidden.text
    assert "https:" not in hidden.headers["content-security-policy"]
    shown = ui.get(f"/messages/{thread.message_id}/body", params={"images": "true"})
    assert 'src="https://tracker.example/pixel.gif"' in shown.text
    policy = shown.headers["content-security-policy"]
    assert "img-src data: cid: https: http:" in policy and "script" not in policy


def test_the_api_docs_load_nothing_from_other_hosts_and_carry_the_headers(
        ui: httpx.Client) -> None:
    page = ui.get("/docs")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(references) >= 3
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        assert ui.get(reference).status_code == 200, reference
    assert ui.get("/redoc").status_code == 404
    assert ui.get("/docs/assets/..%2f__init__.py").status_code == 404


def test_the_api_docs_try_requests_with_the_logged_in_agents_token(ui: httpx.Client,
                                                                   api: Api) -> None:
    token = log_in_http(ui, api.alice)
    assert f'data-csrf-token="{token}"' in ui.get("/docs").text
