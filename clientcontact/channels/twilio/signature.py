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
from functools import lru_cache
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
REMEMBERED_FORM_BYTES = 16 * 1024  # Twilio's forms are a few hundred bytes; larger: not kept


class FormParams(dict[str, list[str]]):
    """Form parameters with repeated names kept, in the shape the SDK's validator reads."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def form_params(body: bytes) -> FormParams:
    """Decode an `application/x-www-form-urlencoded` body; BadPayload when it is not one."""
    params = FormParams()
    pairs = _remembered_pairs(body) if len(body) <= REMEMBERED_FORM_BYTES else _pairs(body)
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


@lru_cache(maxsize=64)
def _remembered_pairs(body: bytes) -> tuple[tuple[str, str], ...]:
    """Parsed once per body: finding the inbox, verifying and keying one webhook each read
    the same form, usually within a millisecond of each other."""
    return _pairs(body)


def _pairs(body: bytes) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                               strict_parsing=bool(body)))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadPayload(f"Twilio webhook body is not a URL-encoded form: {exc}") from exc


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
    given = signature.strip().encode()
    try:  # the second form is computed only when the first does not match
        matched = any(
            hmac.compare_digest(validator.compute_signature(url, params, algorithm).encode(),
                                given)
            for url in (remove_port(parsed), add_port(parsed)))
    except ValueError as exc:  # an algorithm this SDK does not know
        raise Unauthenticated(f"unsupported Twilio signature algorithm: {algorithm}") from exc
    if not matched:
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
