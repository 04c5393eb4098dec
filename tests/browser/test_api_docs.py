"""The API docs in a real browser: Swagger UI renders under the page's strict CSP, and every
file it loads comes from our own server."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.harness import Api


def test_the_api_docs_render_from_our_own_origin(browser: object, api: Api) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        hosts: set[str] = set()
        problems: list[str] = []
        page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        page.on("console", lambda message: message.type == "error"
                and problems.append(message.text))
        page.goto(f"{api.server.base_url}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        assert page.locator(".opblock").count() > 20
        assert page.get_by_text("/api/v1/auth/login").count() >= 1
        assert hosts == {urlsplit(api.server.base_url).netloc}
        assert problems == []  # a script or style blocked by the CSP would show here
    finally:
        context.close()
