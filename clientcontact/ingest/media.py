"""Provider-hosted media (Twilio MMS and WhatsApp files), copied into our store while routing.

Twilio keeps inbound media only until the account deletes it, and serves it only with the
account's credentials, so routing fetches each file before the message is stored
(`ingest.content.store_attachments` calls `fetch_media`). A failure that may pass (timeout,
5xx, 429) raises `MediaUnavailable`: the ingest job fails and retries, and nothing half-routed
is kept. A file that is gone or refused answers None and the message keeps its URL instead.
Credentials are only ever sent to the provider's own API host.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import httpx

from clientcontact.channels.base import InboundAttachment
from clientcontact.channels.registry import AdapterContext
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.secrets import CredentialBox
from clientcontact.settings import Settings

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
TIMEOUT_SECONDS = 30.0
# Answers worth another try later; any other 4xx means the file will not come.
TRANSIENT_STATUSES = frozenset({408, 425, 429})


class MediaUnavailable(Exception):
    """The provider could not hand the file over right now; retrying may succeed."""


def fetch_media(inbox: Inbox, item: InboundAttachment, *, settings: Settings) -> bytes | None:
    """The file's bytes, or None when this provider's media cannot be fetched (kept as a link)."""
    fetcher = FETCHERS.get(inbox.provider)
    if fetcher is None or not item.url:
        return None
    credentials = AdapterContext(settings=settings,
                                 box=CredentialBox(settings.resolved_secret_key()))
    return fetcher(item.url, credentials.credentials(inbox), settings)


def _twilio(url: str, credentials: dict[str, str], settings: Settings) -> bytes | None:
    sid, token = credentials.get("account_sid"), credentials.get("auth_token")
    target = _on_twilio_api(url, credentials.get("api_base_url"))
    if not (sid and token and target):
        log.warning("not fetching media %s: not Twilio's API, or no credentials", url)
        return None
    return download(target, (sid, token), limit=settings.max_attachment_bytes)


def _on_twilio_api(url: str, api_base_url: str | None) -> str | None:
    """The URL to fetch (routed to `api_base_url` when the inbox sets one, as the sender is),
    or None when it does not point at Twilio's API."""
    base = (api_base_url or TWILIO_API).rstrip("/")
    routed = re.sub(rf"^{re.escape(TWILIO_API)}(?=/)", base, url, count=1)
    return routed if routed.startswith(base + "/") else None


def download(url: str, auth: tuple[str, str], *, limit: int) -> bytes | None:
    """GET with basic auth (dropped by httpx on a redirect to another host, such as Twilio's
    CDN); None when the file is gone, refused or larger than `limit`."""
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=True, auth=auth) as http, \
                http.stream("GET", url) as response:
            if response.status_code >= 500 or response.status_code in TRANSIENT_STATUSES:
                raise MediaUnavailable(f"media {url} answered {response.status_code}")
            if response.status_code >= 400:
                log.warning("media %s answered %s; keeping the link", url, response.status_code)
                return None
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > limit:
                    log.warning("media %s is larger than %s bytes; keeping the link", url, limit)
                    return None
            return bytes(data)
    except httpx.TransportError as exc:
        raise MediaUnavailable(f"media {url} could not be fetched: {exc}") from exc


FETCHERS: dict[str, Callable[[str, dict[str, str], Settings], bytes | None]] = {
    "twilio": _twilio,
}
