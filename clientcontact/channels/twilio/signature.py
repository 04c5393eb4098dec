"""X-Twilio-Signature: proof that a webhook came from Twilio and was not altered on the way.

Twilio signs the exact URL it called plus the sorted form parameters (JSON bodies: the URL
carries `bodySHA256` and the body is hashed instead). We rebuild the string with the SDK's
`RequestValidator` and compare in constant time. The URL must be the public one Twilio called
(PUBLIC_URL + path + query), never the one a proxy hands us. Twilio's own back end signs with
and without the default port, so both forms are accepted, as the SDK does.

https://www.twilio.com/docs/usage/webhooks/webhooks-security
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, parse_qsl, urlsplit

from twilio.request_validator import (
    RequestValidator,
    add_port,
    get_signature_algorithm,
    remove_port,
)

from clientcontact.channels.base import RawRequest
from clientcontact.errors import BadPayload, Unauthenticated

SIGNATURE_HEADER = "x-twilio-signature"
# Present when the webhook is signed with a SharedKey instead of the Auth Token.
SIGNATURE_SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"


class FormParams(dict[str, list[str]]):
    """Form parameters with repeated names kept, in the shape the SDK's validator reads."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def form_params(body: bytes) -> FormParams:
    """Decode an `application/x-www-form-urlencoded` body; BadPayload when it is not one."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadPayload(f"Twilio webhook body is not a URL-encoded form: {exc}") from exc
    params = FormParams()
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def verify_twilio_signature(request: RawRequest, auth_token: str) -> None:
    """Raise Unauthenticated unless the request carries a valid signature for this token."""
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise Unauthenticated("missing X-Twilio-Signature header")
    if not auth_token:
        raise Unauthenticated("this inbox has no Twilio auth token to verify with")
    validator = RequestValidator(auth_token)
    params = _signed_params(request, validator)
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    parsed = urlsplit(request.url)
    try:
        candidates = [
            validator.compute_signature(url, params, algorithm)
            for url in (remove_port(parsed), add_port(parsed))
        ]
    except ValueError as exc:  # an algorithm this SDK does not know
        raise Unauthenticated(f"unsupported Twilio signature algorithm: {algorithm}") from exc
    given = signature.strip().encode()
    if not any(hmac.compare_digest(c.encode(), given) for c in candidates):
        raise Unauthenticated("X-Twilio-Signature does not match this request")


def _signed_params(request: RawRequest, validator: RequestValidator) -> FormParams:
    """The parameters the signature covers: the form, or nothing when the body is hashed."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return form_params(request.body)
    declared = parse_qs(urlsplit(request.url).query).get("bodySHA256", [""])[0]
    actual = hashlib.sha256(request.body).hexdigest()
    if not declared or not hmac.compare_digest(declared.lower().encode(), actual.encode()):
        raise Unauthenticated("JSON body does not match the bodySHA256 in the signed URL")
    return FormParams()


__all__ = ["SIGNATURE_HEADER", "FormParams", "form_params", "verify_twilio_signature"]
