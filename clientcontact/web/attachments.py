"""Files attached to messages, as the UI shows them: inline images in an email body (its `cid:`
references point here) and downloads of everything else.

An email body lives in a sandboxed frame, whose origin is opaque: the browser sends it no
SameSite=Lax login cookie. So the body (itself logged in and account-scoped) links each inline
image with a short-lived signature of (account, attachment, expiry). A request that carries a
login cookie is scoped by it instead: another account's agent gets 404 whatever the URL says.
"""

from __future__ import annotations

import hashlib
import hmac
import html as html_escape
import re
import time
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from clientcontact.api.deps import AppRuntime, DbSession
from clientcontact.conversations.messages import get_attachment
from clientcontact.conversations.models import Attachment, Message
from clientcontact.db.tenancy import Actor, scoped
from clientcontact.errors import NotFound
from clientcontact.runtime import Runtime
from clientcontact.web.deps import login_redirect, web_actor_or_none

router = APIRouter()

# Raster images a browser shows without running anything; SVG (it can carry script) and all
# else is only ever downloaded.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif",
                          "image/bmp"})
# What the sanitizer leaves: src="cid:…" with the value HTML-escaped inside double quotes.
CID_SRC = re.compile(r'(\ssrc=")cid:([^"]+)(")', re.IGNORECASE)
# A signed link lives one to two hours: past the body's hour of caching, and the same URL
# all the while (the expiry is rounded up to the hour), so the browser caches the image too.
LINK_LIFETIME = 3600


@router.get("/attachments/{attachment_id}")
def attachment_file(attachment_id: int, request: Request, session: DbSession,
                    runtime: AppRuntime, exp: int = 0, sig: str = "") -> Response:
    """Another account's attachment is a 404, like any other row of theirs."""
    actor = web_actor_or_none(request, session)
    if actor is not None:
        attachment = get_attachment(session, actor, attachment_id)
    elif sig:
        found = session.get(Attachment, attachment_id)
        if found is None or not _valid(runtime, found.account_id, attachment_id, exp, sig):
            raise NotFound(f"attachment {attachment_id} not found")
        attachment = found
    else:
        raise login_redirect(request)
    content_type = attachment.content_type.split(";")[0].strip().lower()
    shown = content_type in INLINE_TYPES
    disposition = "inline" if shown else "attachment"
    return Response(
        runtime.store.get(attachment.storage_key),
        media_type=content_type if shown else "application/octet-stream",
        headers={"Content-Disposition":
                 f"{disposition}; filename*=UTF-8''{quote(attachment.filename)}",
                 "X-Content-Type-Options": "nosniff",
                 "Content-Security-Policy": "default-src 'none'; sandbox",
                 "Cache-Control": "private, max-age=3600"})


def inline_images(session: Session, actor: Actor, runtime: Runtime, message: Message,
                  body: str) -> str:
    """`src="cid:<id>"` → this message's inline attachment with that Content-ID, served by the
    route above (same origin, so the body's `img-src 'self'` lets it in). An unknown id stays
    `cid:`, which loads nothing."""
    if "cid:" not in body:
        return body
    rows = session.execute(
        scoped(Attachment, actor.account_id, Attachment.id, Attachment.content_id)
        .where(Attachment.message_id == message.id, Attachment.content_id.is_not(None),
               Attachment.inline.is_(True))
    ).all()
    by_cid = {_normal(content_id): attachment_id for attachment_id, content_id in rows}
    if not by_cid:
        return body

    def rewrite(match: re.Match[str]) -> str:
        found = by_cid.get(_normal(unquote(html_escape.unescape(match.group(2)))))
        if found is None:
            return match.group(0)
        return f"{match.group(1)}{signed_url(runtime, actor.account_id, found)}{match.group(3)}"

    return CID_SRC.sub(rewrite, body)


def _normal(content_id: str) -> str:
    return content_id.strip().strip("<>").lower()


def signed_url(runtime: Runtime, account_id: int, attachment_id: int,
               now: float | None = None) -> str:
    """Ready to go in an HTML attribute (hence `&amp;`)."""
    exp = (int(now or time.time()) // LINK_LIFETIME + 2) * LINK_LIFETIME
    return (f"/attachments/{attachment_id}?exp={exp}&amp;"
            f"sig={_signature(runtime, account_id, attachment_id, exp)}")


def _signature(runtime: Runtime, account_id: int, attachment_id: int, exp: int) -> str:
    key = hashlib.sha256(b"clientcontact-inline-attachment|"
                         + runtime.settings.resolved_secret_key().encode()).digest()
    return hmac.new(key, f"{account_id}|{attachment_id}|{exp}".encode(),
                    hashlib.sha256).hexdigest()


def _valid(runtime: Runtime, account_id: int, attachment_id: int, exp: int, sig: str) -> bool:
    return exp > time.time() and hmac.compare_digest(
        sig.encode(), _signature(runtime, account_id, attachment_id, exp).encode())
