"""Browsers ask for an icon: pages name ours, and /favicon.ico leads to it."""

from __future__ import annotations

import re

from tests.harness import Api


def test_pages_name_the_icon_and_favicon_ico_leads_to_it(api: Api) -> None:
    client = api.anonymous()
    named = re.search(r'<link rel="icon" href="([^"]+)"', client.get("/login").text)
    assert named is not None
    icon = client.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.url.path == named.group(1).split("?")[0]
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
