"""Amazon SNS envelopes: proving a POST came from SNS, and confirming a subscription safely.

SNS signs a fixed list of envelope fields with the key of an X.509 certificate it names by URL.
That URL is attacker-controlled until checked, so it must be https on an SNS host before anything
is fetched; certificates are then cached per URL. A valid signature only proves *some* AWS
account's topic sent it, so each inbox also pins the TopicArn it expects (see notifications.py).

https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from clientcontact.channels.json_payload import load_json
from clientcontact.errors import BadPayload, Unauthenticated

Envelope = Mapping[str, Any]
Fetcher = Callable[[str], bytes]

SIGNATURE_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "1": hashes.SHA1,  # SHA1withRSA
    "2": hashes.SHA256,  # SHA256withRSA
}

# The fields each message type signs, in this order; None-valued optional ones are skipped.
SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
OPTIONAL_FIELDS = frozenset({"Subject"})
MESSAGE_TYPE_HEADER = "x-amz-sns-message-type"  # SNS names each of its requests with this

SNS_HOST = r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?"
# A certificate that could not be fetched is not asked for again for this long: a flood of
# forged or stale envelopes must not become a flood of fetches, nor hold up the intake.
FAILED_FETCH_SECONDS = 30.0


@dataclass(frozen=True)
class SubscriptionConfirmation:
    """SNS asks us to confirm a subscription: an event, so ingest confirms it from the stored
    row (with `SesInbound.confirm_subscription`), never from the request thread."""

    topic_arn: str
    subscribe_url: str
    token: str


@dataclass(frozen=True)
class TrustedHosts:
    """Where SNS certificates and subscription URLs may live. Tests add loopback and http."""

    host_patterns: tuple[str, ...] = (SNS_HOST,)
    schemes: tuple[str, ...] = ("https",)

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return False
        return parts.scheme in self.schemes and any(
            re.fullmatch(pattern, host) for pattern in self.host_patterns
        )


def fetch_with_httpx(url: str) -> bytes:
    response = httpx.get(url, timeout=10.0, follow_redirects=False)
    response.raise_for_status()
    return response.content


class SnsVerifier:
    """Verifies SNS signatures; build one per process so its certificate cache is shared."""

    def __init__(
        self,
        trusted: TrustedHosts | None = None,
        *,
        fetch: Fetcher = fetch_with_httpx,
        max_cached: int = 32,
    ) -> None:
        self.trusted = trusted or TrustedHosts()
        self._fetch = fetch
        self._max_cached = max_cached
        self._cache: dict[str, rsa.RSAPublicKey] = {}
        self._failed: dict[str, tuple[float, str]] = {}  # url → (when, why)
        self._lock = threading.Lock()

    def prefetch(self, body: bytes) -> None:
        """Fetch the certificate an envelope names, if it is trusted and not cached yet, so
        that `verify` then needs no network. A body that is no SNS envelope raises BadPayload
        here, before it could join other webhooks' batch; a failed fetch is left for `verify`
        to say."""
        cert_url = read_envelope(body).get("SigningCertURL")
        if isinstance(cert_url, str) and self.trusted.allows(cert_url):
            with contextlib.suppress(Unauthenticated):
                self._public_key(cert_url)

    def verify(self, envelope: Envelope) -> None:
        """Raise Unauthenticated unless SNS signed this envelope with a trusted certificate."""
        version = str(envelope.get("SignatureVersion", ""))
        algorithm = SIGNATURE_HASHES.get(version)
        if algorithm is None:
            raise Unauthenticated(f"unsupported SNS SignatureVersion {version!r}")
        cert_url = envelope.get("SigningCertURL")
        if not isinstance(cert_url, str) or not self.trusted.allows(cert_url):
            raise Unauthenticated("SNS SigningCertURL is not on a trusted SNS host")
        try:
            signature = base64.b64decode(str(envelope.get("Signature", "")), validate=True)
        except binascii.Error as exc:
            raise Unauthenticated("SNS Signature is not base64") from exc
        key = self._public_key(cert_url)
        try:
            key.verify(signature, string_to_sign(envelope), padding.PKCS1v15(), algorithm())
        except InvalidSignature as exc:
            raise Unauthenticated("SNS signature does not match this message") from exc

    def _public_key(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            cached = self._cache.get(url)
            failed = self._failed.get(url)
        if cached is not None:
            return cached
        if failed is not None and time.monotonic() - failed[0] < FAILED_FETCH_SECONDS:
            raise Unauthenticated(failed[1])
        try:
            key = self._load(url)
        except Unauthenticated as exc:
            with self._lock:
                if len(self._failed) >= self._max_cached:
                    self._failed.pop(next(iter(self._failed)))
                self._failed[url] = (time.monotonic(), exc.message)
            raise
        with self._lock:
            self._failed.pop(url, None)
            if len(self._cache) >= self._max_cached:
                self._cache.pop(next(iter(self._cache)))
            self._cache[url] = key
        return key

    def _load(self, url: str) -> rsa.RSAPublicKey:
        try:
            certificate = x509.load_pem_x509_certificate(self._fetch(url))
        except (httpx.HTTPError, ValueError) as exc:
            raise Unauthenticated(f"could not load the SNS signing certificate: {exc}") from exc
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Unauthenticated("SNS signing certificate does not hold an RSA key")
        return key


def read_envelope(body: bytes) -> dict[str, Any]:
    """The SNS JSON envelope (sent as text/plain); BadPayload when it is not one."""
    envelope = load_json(body, "SNS body is not JSON")
    if not isinstance(envelope, dict) or envelope.get("Type") not in SIGNED_FIELDS:
        raise BadPayload("SNS body is not a Notification or (Un)SubscriptionConfirmation")
    if not isinstance(envelope.get("MessageId"), str) or not envelope["MessageId"]:
        raise BadPayload("SNS envelope without MessageId")
    return envelope


def string_to_sign(envelope: Envelope) -> bytes:
    """`name\\nvalue\\n` for each signed field of this message type, in SNS's order."""
    lines: list[str] = []
    for name in SIGNED_FIELDS[envelope["Type"]]:
        value = envelope.get(name)
        if value is None and name in OPTIONAL_FIELDS:
            continue
        if not isinstance(value, str):
            raise BadPayload(f"SNS {envelope['Type']} without {name}")
        lines += [name, value]
    return ("\n".join(lines) + "\n").encode("utf-8")


def confirm_subscription(
    envelope: Envelope,
    verifier: SnsVerifier,
    *,
    expected_topic_arn: str,
    client: httpx.Client | None = None,
) -> None:
    """Subscribe our endpoint to the topic, but only for a verified confirmation of the pinned
    topic, and only by visiting a trusted SNS URL: SubscribeURL is otherwise a request forgery."""
    if envelope.get("Type") != "SubscriptionConfirmation":
        raise BadPayload("not an SNS SubscriptionConfirmation")
    if envelope.get("TopicArn") != expected_topic_arn:
        raise Unauthenticated("SNS TopicArn is not the one this inbox expects")
    verifier.verify(envelope)
    url = str(envelope.get("SubscribeURL", ""))
    if not verifier.trusted.allows(url):
        raise Unauthenticated("SNS SubscribeURL is not on a trusted SNS host")
    http = client or httpx.Client(timeout=10.0, follow_redirects=False)
    try:
        http.get(url).raise_for_status()
    finally:
        if client is None:
            http.close()


__all__ = [
    "SIGNED_FIELDS",
    "SnsVerifier",
    "SubscriptionConfirmation",
    "TrustedHosts",
    "confirm_subscription",
    "read_envelope",
    "string_to_sign",
]
