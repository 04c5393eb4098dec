"""Inboxes: create email, SMS and WhatsApp inboxes, see the URLs to give the provider, each
inbox's health (queue, failures, last send), and send a test message through it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clientcontact.api.deps import AppRuntime, DbSession
from clientcontact.channels.base import ChannelKind
from clientcontact.channels.registry import PROVIDERS_FOR_CHANNEL
from clientcontact.conversations.reply import start_test_conversation
from clientcontact.db.tenancy import Actor
from clientcontact.delivery.channel_status import channel_report
from clientcontact.errors import ClientContactError
from clientcontact.inboxes import service as inboxes
from clientcontact.inboxes.urls import inbound_url, status_callback_url
from clientcontact.runtime import Runtime
from clientcontact.web.admin.credentials import CREDENTIAL_FIELDS, credentials_from_form
from clientcontact.web.admin.pages import admin_page
from clientcontact.web.deps import WebAdmin

router = APIRouter()

# The paths providers already know, shared by every inbox of the channel (see DESIGN.md).
SHARED_PATHS = {ChannelKind.EMAIL: ["/api/webhooks/email/sendgrid", "/api/webhooks/email/ses"],
                ChannelKind.SMS: ["/api/webhooks/sms/twilio"],
                ChannelKind.WHATSAPP: ["/api/webhooks/sms/twilio"]}


@router.get("")
def admin_home() -> Response:
    return RedirectResponse("/admin/inboxes", status_code=303)


@router.get("/inboxes")
def inbox_list(request: Request, session: DbSession, admin: WebAdmin,
               runtime: AppRuntime) -> Response:
    return _inboxes(request, session, admin, runtime)


def _inboxes(request: Request, session: Session, admin: Actor, runtime: Runtime,
             problem: tuple[int, str] | None = None) -> Response:
    settings = runtime.settings
    # Queue figures only: proving credentials calls every provider, which the API's
    # /channels/status does on demand; a page load must not wait on them.
    health = {h.inbox_id: h for h in channel_report(session, admin.account_id, runtime.adapters,
                                                     check=False)}
    rows = [{"inbox": inbox, "inbound_url": inbound_url(settings, inbox),
             "status_url": status_callback_url(settings, inbox), "health": health[inbox.id],
             "problem": problem[1] if problem and problem[0] == inbox.id else None,
             "shared": [settings.public_url + path for path in SHARED_PATHS[inbox.channel]]}
            for inbox in inboxes.list_inboxes(session, admin)]
    providers = {channel.value: sorted(PROVIDERS_FOR_CHANNEL[channel]) for channel in ChannelKind}
    return admin_page(request, session, admin, "inboxes",
                      {"rows": rows, "providers": providers, "channels": list(ChannelKind),
                       "credential_fields": CREDENTIAL_FIELDS})


@router.post("/inboxes/{inbox_id}/test")
def send_test_message(inbox_id: int, request: Request, session: DbSession, admin: WebAdmin,
                      runtime: AppRuntime,
                      to: Annotated[str, Form(min_length=3, max_length=320)]) -> Response:
    """Start a real conversation with the given address, so the admin watches its delivery
    status tick (or read the provider's reason) exactly as an agent would."""
    inbox = inboxes.get_inbox(session, admin, inbox_id)
    try:
        with session.begin_nested():
            conversation = start_test_conversation(session, admin, inbox, to,
                                                   store=runtime.store,
                                                   reply_domain=runtime.settings.reply_domain)
    except ClientContactError as exc:
        return _inboxes(request, session, admin, runtime, problem=(inbox.id, exc.message))
    return Response(status_code=303, headers={"Location": f"/conversations/{conversation.id}",
                                              "HX-Redirect": f"/conversations/{conversation.id}"})


async def form_fields(request: Request) -> dict[str, str]:
    """The whole form as text, for the provider fields whose names depend on the provider."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


@router.post("/inboxes")
def create_inbox(request: Request, session: DbSession, admin: WebAdmin, runtime: AppRuntime,
                 name: Annotated[str, Form(min_length=1, max_length=200)],
                 channel: Annotated[ChannelKind, Form()],
                 provider: Annotated[str, Form(max_length=40)],
                 address: Annotated[str, Form(min_length=1, max_length=320)],
                 fields: Annotated[dict[str, str], Depends(form_fields)],
                 display_name: Annotated[str, Form(max_length=200)] = "") -> Response:
    """The provider's keys are sealed into the inbox; with none typed, it uses the
    environment's, like the default inboxes."""
    inboxes.create_inbox(session, admin, name=name.strip(), channel=channel, provider=provider,
                         address=address, display_name=display_name.strip() or None,
                         credentials=credentials_from_form(provider, fields),
                         box=runtime.adapters.box, region=runtime.settings.default_phone_region)
    return _inboxes(request, session, admin, runtime)
