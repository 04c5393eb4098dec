"""Provider-hosted media (Twilio MMS and WhatsApp files), copied into our store.

Twilio keeps inbound media only until the account deletes it, and serves it only with the
account's credentials, so each file is fetched once into our file store. Never inside a
transaction: the ingest job fetches a batch's files before it opens one (`ingest.prefetch`),
and a file that could not be fetched then is retried by the `ingest.media` job
(`ingest.media_retry`) while its message is already in its conversation. A failure that may
pass (timeout, 5xx, 429) raises `MediaUnavailable`; a file that is gone, refused or too large
answers None and the message keeps its URL instead. Credentials are only ever sent to the
provider's own API host.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from clientcontact.channels.registry import AdapterContext
from clientcontact.files.storage import LocalFileStore
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.secrets import CredentialBox
from clientcontact.settings import Settings

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
TIMEOUT_SECONDS = 30.0  # the most one file may take, from connecting to its last byte
# Answers worth another try later; any other 4xx means the file will not come.
TRANSIENT_STATUSES = frozenset({408, 425, 429})


class MediaUnavailable(Exception):
    """The provider could not hand the file over right now; retrying may succeed."""


@dataclass(frozen=True)
class StoredMedia:
    """A provider's file, copied into our file store."""

    storage_key: str
    size: int


@dataclass(frozen=True)
class MediaMissing:
    """A file not fetched yet, and why; the `ingest.media` job tries again."""

    reason: str


# What fetching one file came to: in our store, None (keep the link), or missing for now.
MediaResult = StoredMedia | MediaMissing | None


def fetch_to_store(inbox: Inbox, url: str, *, settings: Settings, store: LocalFileStore,
                   deadline: float) -> MediaResult:
    """Fetch one file into the store by `deadline` (time.monotonic()), never raising."""
    if time.monotonic() >= deadline:
        return MediaMissing("not fetched in time")
    try:
        data = fetch_media(inbox, url, settings=settings, deadline=deadline)
    except MediaUnavailable as exc:
        log.warning("media %s: %s; trying again later", url, exc)
        return MediaMissing(str(exc))
    if data is None:
        return None
    return StoredMedia(store.put(inbox.account_id, data), len(data))


def fetch_media(inbox: Inbox, url: str, *, settings: Settings,
                deadline: float) -> bytes | None:
    """The file's bytes, or None when this provider's media cannot be fetched (kept as a link)."""
    fetcher = FETCHERS.get(inbox.provider)
    if fetcher is None:
        return None
    credentials = AdapterContext(settings=settings,
                                 box=CredentialBox(settings.resolved_secret_key()))
    return fetcher(url, credentials.credentials(inbox), settings, deadline)


def _twilio(url: str, credentials: dict[str, str], settings: Settings,
            deadline: float) -> bytes | None:
    sid, token = credentials.get("account_sid"), credentials.get("auth_token")
    target = _on_twilio_api(url, credentials.get("api_base_url"))
    if not (sid and token and target):
        log.warning("not fetching media %s: not Twilio's API, or no credentials", url)
        return None
    return download(target, (sid, token), limit=settings.max_attachment_bytes,
                    deadline=deadline)


def _on_twilio_api(url: str, api_base_url: str | None) -> str | None:
    """The URL to fetch (routed to `api_base_url` when the inbox sets one, as the sender is),
    or None when it does not point at Twilio's API."""
    base = (api_base_url or TWILIO_API).rstrip("/")
    routed = re.sub(rf"^{re.escape(TWILIO_API)}(?=/)", base, url, count=1)
    return routed if routed.startswith(base + "/") else None


def download(url: str, auth: tuple[str, str], *, limit: int,
             deadline: float | None = None) -> bytes | None:
    """GET with basic auth (dropped by httpx on a redirect to another host, such as Twilio's
    CDN); None when the file is gone, refused or larger than `limit`. The whole download ends
    by `deadline` (at most TIMEOUT_SECONDS from now): httpx's timeouts bound each wait, not
    the sum, so a host trickling bytes is cut off here."""
    deadline = min(deadline or float("inf"), time.monotonic() + TIMEOUT_SECONDS)
    try:
        with httpx.Client(timeout=max(0.1, deadline - time.monotonic()), auth=auth,
                          follow_redirects=True) as http, http.stream("GET", url) as response:
            if response.status_code >= 500 or response.status_code in TRANSIENT_STATUSES:
                raise MediaUnavailable(f"the media host answered {response.status_code}")
            if response.status_code >= 400:
                log.warning("media %s answered %s; keeping the link", url, response.status_code)
                return None
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > limit:
                    log.warning("media %s is larger than %s bytes; keeping the link", url, limit)
                    return None
                if time.monotonic() > deadline:
                    raise MediaUnavailable("the media host took too long")
            return bytes(data)
    except httpx.TransportError as exc:
        raise MediaUnavailable(f"the media host could not be reached: {exc}") from exc


FETCHERS: dict[str, Callable[[str, dict[str, str], Settings, float], bytes | None]] = {
    "twilio": _twilio,
}
