"""Whatever a stranger posts to a webhook, the answer is never a 500: random bytes, forms and
JSON under every content type, on every path, and signed random forms through the worker."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientcontact.channels.base import ChannelKind
from clientcontact.ingest.models import InboundEventRow
from tests.harness import Api
from tests.signing import SendGridSigner, twilio_signature
from tests.webhooks.conftest import PUBLIC_URL
from tests.webhooks.providers import (
    count,
    post,
    provider_inbox,
    ses_inbox,
    twilio_inbox,
)

SHARED_PATHS = ["/api/webhooks/sms/twilio", "/api/webhooks/email/sendgrid",
                "/api/webhooks/email/ses"]
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

BOUNDARY = "xYzZY"
CONTENT_TYPES = st.sampled_from([
    "application/x-www-form-urlencoded", "application/json", "text/plain; charset=UTF-8",
    f"multipart/form-data; boundary={BOUNDARY}", "multipart/form-data", "", "text/xml"])
TEXT = st.text(max_size=40)
FIELD_NAMES = st.sampled_from([
    "MessageSid", "SmsStatus", "MessageStatus", "From", "To", "Body", "NumMedia", "MediaUrl0",
    "ErrorCode", "envelope", "email", "headers", "attachment-info", "Type", "x"])
FORMS = st.dictionaries(FIELD_NAMES, TEXT | st.sampled_from(
    ["received", "delivered", "whatsapp:+14155238886", "+15005550006", "2", "{}", "[]"]),
    max_size=8)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(TEXT | FIELD_NAMES, inner, max_size=4), max_leaves=12)
SNS = st.fixed_dictionaries({
    "Type": st.sampled_from(["Notification", "SubscriptionConfirmation", "Nope"]),
    "MessageId": TEXT, "TopicArn": TEXT,
    "Message": JSON.map(json.dumps) | TEXT,
    "SignatureVersion": st.sampled_from(["1", "2", "3"]), "Signature": TEXT,
    "SigningCertURL": st.sampled_from(["http://127.0.0.1:1/cert.pem", "https://evil.test/c"])})


def multipart(fields: dict[str, str]) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode("utf-8", "surrogatepass")


BODIES = (st.binary(max_size=512) | FORMS.map(lambda f: urlencode(f).encode())
          | FORMS.map(multipart) | JSON.map(lambda j: json.dumps(j).encode())
          | SNS.map(lambda s: json.dumps(s).encode()))


@pytest.fixture
def inbox_paths(api: Api) -> list[str]:
    """Every kind of webhook path, with an inbox of each provider behind it."""
    sms, whatsapp, ses = twilio_inbox(api), twilio_inbox(api, ChannelKind.WHATSAPP), ses_inbox(api)
    signer = SendGridSigner()
    sendgrid = provider_inbox(api, channel=ChannelKind.EMAIL, provider="sendgrid",
                              address="help@inbound.example.com",
                              credentials={"api_key": "SG.x", "inbound_secret": "s",
                                           "webhook_verification_key": signer.verification_key})
    return [*SHARED_PATHS, "/api/webhooks/inboxes/unknown/inbound",
            *(p for i in (sms, whatsapp, ses, sendgrid) for p in (i.inbound_path, i.status_path))]


def test_random_posts_never_end_in_a_500(api: Api, inbox_paths: list[str]) -> None:
    @FUZZ
    @given(path=st.sampled_from(inbox_paths), body=BODIES, content_type=CONTENT_TYPES,
           signature=st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126)))
    def post_anything(path: str, body: bytes, content_type: str, signature: str | None) -> None:
        headers = {"content-type": content_type} if content_type else {}
        if signature is not None:
            headers["x-twilio-signature"] = signature
        response = post(api, path, body, headers)
        assert response.status_code < 500, response.text

    post_anything()
    assert count(api, InboundEventRow) == 0  # nothing unverified was ever stored


def test_signed_random_forms_are_stored_and_never_break_the_worker(api: Api) -> None:
    sms = twilio_inbox(api)

    @FUZZ
    @given(form=FORMS, shared=st.booleans())
    def post_signed(form: dict[str, str], shared: bool) -> None:
        path = "/api/webhooks/sms/twilio" if shared else sms.inbound_path
        body = urlencode(form).encode()
        response = post(api, path, body, {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": twilio_signature(PUBLIC_URL + path, body)})
        assert response.status_code < 500, response.text
        api.run_worker()

    post_signed()
