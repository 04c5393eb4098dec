"""Every control a screen reader reaches has a name: a label, an enclosing label or aria-label."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

from clientcontact.channels.base import ChannelKind
from tests.builders import customer_writes
from tests.harness import Api
from tests.web.helpers import log_in_http

CONTROLS = {"input", "select", "textarea"}


class Controls(HTMLParser):
    """Collects form controls and which of them a label names."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.wrapped: set[int] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if values.get("for"):
                self.label_for.add(str(values["for"]))
        elif tag in CONTROLS and values.get("type") not in ("hidden", "submit"):
            if self.open_labels:
                self.wrapped.add(len(self.controls))
            self.controls.append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels = max(0, self.open_labels - 1)

    def unnamed(self) -> list[dict[str, str | None]]:
        return [c for i, c in enumerate(self.controls)
                if i not in self.wrapped and c.get("id") not in self.label_for
                and not c.get("aria-label")]


def test_every_control_on_every_screen_is_labelled(ui: httpx.Client, api: Api) -> None:
    email = customer_writes(api, api.alice)
    sms = customer_writes(api, api.alice, channel=ChannelKind.SMS, address="+14155550142")
    log_in_http(ui, api.alice)
    pages = ["/", f"/conversations/{email.conversation_id}",
             f"/conversations/{sms.conversation_id}", f"/contacts/{email.contact_id}/edit",
             "/admin/inboxes", "/admin/agents", "/admin/teams", "/admin/tokens", "/admin/canned",
             "/account/password"]
    for path in pages:
        parser = Controls()
        parser.feed(ui.get(path).text)
        assert parser.controls, path
        assert parser.unnamed() == [], path


def test_the_login_form_is_labelled(ui: httpx.Client) -> None:
    parser = Controls()
    parser.feed(ui.get("/login").text)
    assert len(parser.controls) == 3 and parser.unnamed() == []


def test_the_invitation_page_is_labelled(ui: httpx.Client, api: Api) -> None:
    invitation = api.alice.http.post("/api/v1/invitations", json={
        "email": "dan@acme.test", "name": "Dan"}).json()
    parser = Controls()
    parser.feed(ui.get(invitation["url"].removeprefix(api.settings.public_url)).text)
    assert len(parser.controls) == 5 and parser.unnamed() == []  # with the hidden username
