"""Writing in a conversation: replies (queued, then sent by the worker), notes, retries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError

from clientcontact.api.deps import AppRuntime, DbSession
from clientcontact.channels.base import WhatsAppTemplate
from clientcontact.conversations import reply as replies
from clientcontact.conversations.messages import get_message
from clientcontact.conversations.reply import NewAttachment
from clientcontact.conversations.schemas import TemplateIn
from clientcontact.conversations.service import get_conversation
from clientcontact.errors import BadRequest, PayloadTooLarge, Unprocessable
from clientcontact.inputs import servable_media_type
from clientcontact.web.deps import WebActor
from clientcontact.web.screens import account_agents, load_conversation
from clientcontact.web.templating import render

router = APIRouter()

MAX_ATTACHMENTS = 10
MAX_VARIABLES = 100
VariableField = Annotated[list[str] | None, Form()]


@router.post("/conversations/{conversation_id}/compose")
def compose(conversation_id: int, request: Request, session: DbSession, actor: WebActor,
            runtime: AppRuntime, mode: Annotated[str, Form()] = "reply",
            text: Annotated[str, Form(max_length=100_000)] = "",
            attachments: Annotated[list[UploadFile] | None, File()] = None,
            content_sid: Annotated[str | None, Form(max_length=200)] = None,
            variable_name: VariableField = None,
            variable_value: VariableField = None) -> Response:
    """Answers with a fresh composer; the thread picks the new message up by itself.

    A WhatsApp conversation whose 24-hour window is closed sends a template (`content_sid`
    and numbered variables) instead of text."""
    template = (form_template(content_sid, variable_name or [], variable_value or [])
                if content_sid is not None and mode != "note" else None)
    if mode == "note":
        replies.add_note(session, actor, conversation_id, text=text)
    else:
        files = [f for f in attachments or [] if f.filename]
        if len(files) > MAX_ATTACHMENTS:
            raise BadRequest(f"at most {MAX_ATTACHMENTS} attachments per message")
        limit = runtime.settings.max_attachment_bytes
        if any((f.size or 0) > limit for f in files):
            raise PayloadTooLarge(f"an attachment is larger than the limit of {limit} bytes")
        replies.reply(
            session, actor, conversation_id, text=text,
            # A name fits its column (255) with its extension kept; a type fits a header.
            attachments=[NewAttachment((f.filename or "attachment")[-255:],
                                       servable_media_type(f.content_type or ""),
                                       f.file.read()) for f in files],
            template=template, store=runtime.store,
            reply_domain=runtime.settings.reply_domain)
    screen = load_conversation(session, actor, conversation_id, mark_read=False,
                               with_thread=False)
    return render(request, "conversation/composer.html",
                  {"screen": screen, "conversation": screen.conversation, "mode": mode},
                  headers={"HX-Trigger": "thread-changed"})


def form_template(content_sid: str, names: list[str], values: list[str]) -> WhatsAppTemplate:
    """The template form's fields, checked as the REST API checks a `template`: rows left
    wholly empty are skipped; a value needs its variable's number."""
    if len(names) != len(values):
        raise BadRequest("each template variable needs a name and a value field")
    if len(names) > MAX_VARIABLES:
        raise BadRequest(f"at most {MAX_VARIABLES} template variables")
    variables: dict[str, str] = {}
    for name, value in zip((n.strip() for n in names), values, strict=True):
        if not name and not value.strip():
            continue
        if not name:
            raise Unprocessable("a template variable is missing its number (1, 2, …)")
        if name in variables:
            raise Unprocessable(f"template variable {name} is given twice")
        variables[name] = value
    try:
        return TemplateIn(content_sid=content_sid.strip(), variables=variables).template()
    except ValidationError as exc:
        if any(error["loc"][:1] == ("content_sid",) for error in exc.errors()):
            raise Unprocessable("the Content SID must be HX followed by 32 hexadecimal "
                                "characters, as Twilio's Content Template Builder shows it"
                                ) from None
        raise Unprocessable(f"the template is not valid: {exc.errors()[0]['msg']}") from None


@router.post("/messages/{message_id}/retry")
def retry(message_id: int, request: Request, session: DbSession, actor: WebActor) -> Response:
    replies.retry(session, actor, message_id)
    message = get_message(session, actor, message_id)
    conversation = get_conversation(session, actor, message.conversation_id)
    return render(request, "conversation/message.html", {
        "message": message, "conversation": conversation,
        "agents": account_agents(session, actor)})
