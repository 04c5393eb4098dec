"""Sending SMS, MMS and WhatsApp through Twilio's Messages API, with every failure classified.

The official SDK is synchronous: each call runs in a worker thread under a hard deadline. Numbers
are normalised to E.164 before anything leaves, so a typo is refused here, with words an agent
understands, instead of costing a provider round trip and a Twilio error code.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

import phonenumbers
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from clientcontact.channels.base import (
    ChannelKind,
    ChannelStatus,
    DeliveryFailure,
    OutboundMessage,
    PermanentFailure,
    SendResult,
    TransientFailure,
)
from clientcontact.channels.provider_calls import call_in_thread, retry_after_seconds, timed_out

# Twilio's own error codes where they say more than the HTTP status does.
# https://www.twilio.com/docs/api/errors
ERROR_KINDS: dict[int, type[DeliveryFailure]] = {
    20003: PermanentFailure,  # authentication failed: wrong Account SID or Auth Token
    20404: PermanentFailure,  # resource not found (e.g. unknown messaging service)
    20429: TransientFailure,  # too many requests
    20500: TransientFailure,  # internal server error
    20503: TransientFailure,  # service unavailable
    21211: PermanentFailure,  # invalid 'To' phone number
    21408: PermanentFailure,  # permission to send to this region is not enabled
    21606: PermanentFailure,  # 'From' is not a valid message-capable number for this account
    21610: PermanentFailure,  # recipient unsubscribed (replied STOP)
    21612: PermanentFailure,  # 'To' cannot be reached from this 'From'
    21614: PermanentFailure,  # 'To' is not a mobile number
    21617: PermanentFailure,  # body exceeds the 1600 character limit
    30001: TransientFailure,  # queue overflow
    63016: PermanentFailure,  # WhatsApp free-form message outside the 24-hour window
    63018: TransientFailure,  # WhatsApp rate limit
}
# When the code is unknown, the HTTP status decides; anything else 5xx is transient.
STATUS_KINDS: dict[int, type[DeliveryFailure]] = {
    400: PermanentFailure,
    401: PermanentFailure,
    403: PermanentFailure,
    404: PermanentFailure,
    408: TransientFailure,
    413: PermanentFailure,
    429: TransientFailure,
}
# Why phonenumbers cannot read a string as a number, or thinks it is not dialable, in an
# agent's words.
UNREADABLE_NUMBERS: dict[int, str] = {
    phonenumbers.NumberParseException.NOT_A_NUMBER: "it is not a phone number",
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "its country code does not exist",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "it has too few digits",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "it has too few digits",
    phonenumbers.NumberParseException.TOO_LONG: "it has too many digits",
}
NUMBER_PROBLEMS: dict[int, str] = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "its country code does not exist",
    phonenumbers.ValidationResult.TOO_SHORT: "it has too few digits",
    phonenumbers.ValidationResult.TOO_LONG: "it has too many digits",
    phonenumbers.ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "it lacks an area code",
}
# How each channel writes an E.164 number in To and From.
ADDRESS_FORMATS: dict[ChannelKind, str] = {ChannelKind.WHATSAPP: "whatsapp:{}"}
_TWILIO_HOST = re.compile(r"^https://[A-Za-z0-9.-]+\.twilio\.com")


class RoutedHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sent to another base URL (edge proxy, regional gateway, test fake)
    when one is configured, and remembering each thread's last response so a 429's Retry-After
    (which `TwilioRestException` drops) can still be honoured."""

    def __init__(self, api_base_url: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None
        self._last = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.api_base_url:
            url = _TWILIO_HOST.sub(self.api_base_url, url, count=1)
        self._last.response = None
        response = super().request(method, url, *args, **kwargs)
        self._last.response = response
        return response

    def last_header(self, name: str) -> str | None:
        response = getattr(self._last, "response", None)
        headers = response.headers if response is not None else None
        return headers.get(name) if headers else None


class TwilioSender:
    """Twilio's send half for one inbox; built from that inbox's own credentials."""

    provider = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str | None = None,
        default_region: str = "US",
        timeout: float = 15.0,
    ) -> None:
        self.account_sid = account_sid
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.default_region = default_region
        self.timeout = timeout
        self._http = RoutedHttpClient(api_base_url, timeout)
        # environment={}: the inbox's settings decide, not TWILIO_* variables of the host.
        self._client = Client(account_sid, auth_token, http_client=self._http, environment={})

    async def send(self, message: OutboundMessage) -> SendResult:
        """Hand one message to Twilio; the returned SID is what status callbacks will name."""
        params = self.message_params(message)
        created = await self._run(lambda: self._client.messages.create(**params))
        return SendResult(external_id=created.sid)

    async def check(self) -> ChannelStatus:
        """Fetch our own account: proves the credentials and shows whether it is active."""
        try:
            account = await self._run(
                lambda: self._client.api.v2010.accounts(self.account_sid).fetch()
            )
        except PermanentFailure as failure:
            return ChannelStatus(True, False, f"Twilio refused the credentials: {failure.text}")
        except TransientFailure as failure:
            return ChannelStatus(True, None, f"Twilio could not be reached: {failure.text}")
        return ChannelStatus(
            configured=True,
            credentials_valid=account.status == "active",
            detail=f"Twilio account {account.friendly_name!r} is {account.status}",
        )

    def message_params(self, message: OutboundMessage) -> dict[str, Any]:
        """The Messages API parameters, as SDK keyword arguments. Raises PermanentFailure for a
        recipient that is not a dialable number, before any request is made."""
        address = ADDRESS_FORMATS.get(message.channel, "{}").format
        params: dict[str, Any] = {"to": address(self._e164(message.to, strict=True))}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = address(self._e164(message.from_address or self.from_number or ""))
        if message.template is not None:
            params["content_sid"] = message.template.content_sid
            params["content_variables"] = json.dumps(dict(message.template.variables))
        else:
            params["body"] = message.text
        if message.media_urls:
            params["media_url"] = list(message.media_urls)
        if message.status_callback_url:
            params["status_callback"] = message.status_callback_url
        return params

    def _e164(self, number: str, *, strict: bool = False) -> str:
        """E.164 for a phone number. Our own sender may be an alphanumeric ID or short code, so
        only the recipient must be a valid number."""
        bare = number.removeprefix("whatsapp:").strip()
        try:
            parsed = phonenumbers.parse(bare, self.default_region)
        except phonenumbers.NumberParseException as exc:
            if not strict:
                return bare
            why = UNREADABLE_NUMBERS.get(exc.error_type, "it is not a phone number")
            raise _invalid_number(number, why) from exc
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if not strict:
            return bare
        reason = phonenumbers.is_possible_number_with_reason(parsed)
        region = phonenumbers.region_code_for_number(parsed) or self.default_region
        why = NUMBER_PROBLEMS.get(reason, f"it is not a number in use in {region}")
        raise _invalid_number(number, why)

    async def _run(self, call: Callable[[], Any]) -> Any:
        """Run one SDK call in a thread, under a deadline, with failures classified there (the
        Retry-After header is only visible from the thread that made the request)."""
        return await call_in_thread(
            lambda: self._classified(call), provider="Twilio", timeout=self.timeout
        )

    def _classified(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except TwilioRestException as exc:
            raise self._failure(exc) from exc
        except requests.Timeout as exc:
            raise timed_out("Twilio", self.timeout) from exc
        except requests.RequestException as exc:
            raise TransientFailure(f"Twilio unreachable: {exc}", code="connection") from exc

    def _failure(self, exc: TwilioRestException) -> DeliveryFailure:
        status = int(exc.status)
        kind = ERROR_KINDS.get(exc.code) or STATUS_KINDS.get(status)
        kind = kind or (TransientFailure if status >= 500 else PermanentFailure)
        text = _twilio_text(exc)
        code = str(exc.code or status)
        if kind is TransientFailure:
            retry_after = retry_after_seconds(self._http.last_header("Retry-After"))
            return TransientFailure(text, code=code, retry_after=retry_after)
        return PermanentFailure(text, code=code)


def _invalid_number(number: str, why: str) -> PermanentFailure:
    return PermanentFailure(
        f"Cannot send to {number!r}: not a valid phone number ({why}).", code="invalid_number"
    )


def _twilio_text(exc: TwilioRestException) -> str:
    """Twilio's own message: the SDK prefixes it with "Unable to create record: "."""
    message = str(exc.msg or "")
    return message.split(": ", 1)[1] if ": " in message else message or f"HTTP {exc.status}"
