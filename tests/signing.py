"""Provider fixtures as requests, signed at test time the way each provider signs them.

Real signatures need secrets we must not hold, so each provider gets a test key: an HMAC token
for Twilio, a fresh ECDSA P-256 key for SendGrid, and a fresh RSA key with a self-signed
certificate for SNS, served on loopback. The signing code here follows the providers' documents
independently of the production verifiers, so a shared misunderstanding cannot pass unnoticed.

Fixture bytes are signed untouched. SNS is the one exception by design: its signature travels
inside the JSON body, so `SnsSigner` fills `Signature`, `SignatureVersion` and `SigningCertURL`,
none of which are among the signed fields.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from clientcontact.channels.base import RawRequest

FIXTURES = Path(__file__).parent / "fixtures"
RECEIVED_AT = datetime(2026, 11, 25, 2, 20, tzinfo=UTC)
CONTENT_TYPES = {
    ".form": "application/x-www-form-urlencoded",
    ".json": "application/json",
    ".eml": "message/rfc822",
}


@dataclass(frozen=True)
class Fixture:
    provider: str
    name: str
    body: bytes
    headers: Mapping[str, str]

    def request(
        self, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> RawRequest:
        return RawRequest(
            method="POST",
            url=url,
            headers={**self.headers, **(headers or {})},
            body=self.body if body is None else body,
            received_at=RECEIVED_AT,
        )


def fixture_path(provider: str, name: str) -> Path:
    matches = [
        p for p in (FIXTURES / provider).glob(f"{name}.*") if not p.name.endswith(".headers.json")
    ]
    if len(matches) != 1:
        raise FileNotFoundError(f"expected one fixture {provider}/{name}.*, found {matches}")
    return matches[0]


def load_fixture(provider: str, name: str) -> Fixture:
    """A fixture's untouched bytes plus its headers: the extension's content type, then the
    `<name>.headers.json` sidecar when there is one."""
    path = fixture_path(provider, name)
    headers = {"content-type": CONTENT_TYPES.get(path.suffix, "application/octet-stream")}
    sidecar = path.with_name(f"{name}.headers.json")
    if sidecar.exists():
        headers.update({k.lower(): v for k, v in json.loads(sidecar.read_text()).items()})
    return Fixture(provider, name, path.read_bytes(), headers)


# --- Twilio: HMAC-SHA1 over the URL and the sorted form parameters ---------------------------

TWILIO_AUTH_TOKEN = "12345678901234567890123456789012"
TWILIO_URL = "https://inbox.example.com/api/webhooks/sms/twilio?inbox=k_7Hq2"


def twilio_signature(url: str, body: bytes, auth_token: str = TWILIO_AUTH_TOKEN) -> str:
    payload = url
    for name, value in sorted(parse_qsl(body.decode(), keep_blank_values=True)):
        payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_twilio(name: str, url: str = TWILIO_URL) -> RawRequest:
    fixture = load_fixture("twilio", name)
    return fixture.request(url, {"x-twilio-signature": twilio_signature(url, fixture.body)})


# --- SendGrid: ECDSA P-256 / SHA-256 over timestamp + body ----------------------------------


@dataclass
class SendGridSigner:
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def verification_key(self) -> str:
        """As SendGrid shows it in settings: base64 DER SubjectPublicKeyInfo."""
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, at: datetime = RECEIVED_AT) -> dict[str, str]:
        timestamp = str(int(at.timestamp()))
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "x-twilio-email-event-webhook-signature": base64.b64encode(signature).decode(),
            "x-twilio-email-event-webhook-timestamp": timestamp,
        }

    def request(
        self,
        provider: str,
        name: str,
        url: str,
        at: datetime = RECEIVED_AT,
    ) -> RawRequest:
        fixture = load_fixture(provider, name)
        return fixture.request(url, self.headers(fixture.body, at))


# --- SNS: SHA1withRSA (version 1) or SHA256withRSA (version 2) with a served certificate -----

SNS_FIELDS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": [
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ],
}
SNS_FIELDS["UnsubscribeConfirmation"] = SNS_FIELDS["SubscriptionConfirmation"]
SNS_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


@dataclass
class SnsSigner:
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    @property
    def certificate_pem(self) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, envelope: Mapping[str, Any], cert_url: str, version: str = "1") -> bytes:
        lines = []
        for name in SNS_FIELDS[envelope["Type"]]:
            if name in envelope:
                lines += [name, envelope[name]]
        string_to_sign = ("\n".join(lines) + "\n").encode()
        signature = self.key.sign(string_to_sign, padding.PKCS1v15(), SNS_HASHES[version]())
        signed = {
            **envelope,
            "SignatureVersion": version,
            "SigningCertURL": cert_url,
            "Signature": base64.b64encode(signature).decode(),
        }
        return json.dumps(signed, indent=2).encode()

    def request(
        self,
        name: str,
        cert_url: str,
        version: str = "1",
        url: str = "https://inbox.example.com/api/webhooks/email/ses",
    ) -> RawRequest:
        fixture = load_fixture("ses", name)
        body = self.sign(json.loads(fixture.body), cert_url, version)
        return fixture.request(url, body=body)


@dataclass
class CertificateServer:
    url: str
    fetched: list[str]


@contextmanager
def serve_certificate(pem: bytes) -> Iterator[CertificateServer]:
    """Serves `pem` at http://127.0.0.1:<port>/SimpleNotificationService-test.pem and records
    every path fetched, so a test can prove a certificate was (or was never) requested."""
    fetched: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-pem-file")
            self.send_header("Content-Length", str(len(pem)))
            self.end_headers()
            self.wfile.write(pem)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield CertificateServer(
            f"http://127.0.0.1:{port}/SimpleNotificationService-test.pem", fetched
        )
    finally:
        server.shutdown()
        server.server_close()
