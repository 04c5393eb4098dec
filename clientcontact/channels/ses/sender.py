"""Sending email through Amazon SES (API v2, raw MIME), with every failure classified.

Raw content keeps our MIME structure and threading headers, but SES replaces the Message-ID
with its own `<MessageId@REGION.amazonses.com>` (`email.amazonses.com` in us-east-1). That is
the id the customer's reply will name in In-Reply-To, so it is the one we return to be stored.
"""

from __future__ import annotations

from collections.abc import Callable
from email import policy
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from clientcontact.channels.base import (
    ChannelStatus,
    DeliveryFailure,
    OutboundMessage,
    PermanentFailure,
    SendResult,
    TransientFailure,
)
from clientcontact.channels.email_mime import build_email
from clientcontact.channels.provider_calls import call_in_thread

# SES v2 error codes (botocore ClientError). Sending quotas surface as throttling, and AWS says
# to wait up to ten minutes before trying again.
ERROR_KINDS: dict[str, type[DeliveryFailure]] = {
    "MessageRejected": PermanentFailure,
    "MailFromDomainNotVerifiedException": PermanentFailure,
    "AccountSuspendedException": PermanentFailure,
    "SendingPausedException": PermanentFailure,
    "BadRequestException": PermanentFailure,
    "NotFoundException": PermanentFailure,  # e.g. the configuration set does not exist
    "AccessDeniedException": PermanentFailure,
    "UnrecognizedClientException": PermanentFailure,  # unknown access key
    "InvalidClientTokenId": PermanentFailure,
    "SignatureDoesNotMatch": PermanentFailure,  # wrong secret key
    "TooManyRequestsException": TransientFailure,
    "LimitExceededException": TransientFailure,
    "Throttling": TransientFailure,
    "ThrottlingException": TransientFailure,
    "RequestTimeout": TransientFailure,
    "ServiceUnavailable": TransientFailure,
    "InternalFailure": TransientFailure,
}
# The host part of the Message-ID SES writes; every other region uses "<region>.amazonses.com".
MESSAGE_ID_DOMAINS: dict[str, str] = {"us-east-1": "email.amazonses.com"}


class SesSender:
    """Amazon SES's send half for one inbox. Without keys, boto3's default chain (instance role,
    environment) supplies credentials."""

    provider = "ses"

    def __init__(
        self,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        *,
        endpoint_url: str | None = None,
        configuration_set: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.region = region
        self.configuration_set = configuration_set
        self.timeout = timeout
        session = boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        # One attempt: the delivery worker owns retries and their backoff.
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"mode": "standard", "total_max_attempts": 1},
        )
        self._client = session.client("sesv2", endpoint_url=endpoint_url, config=config)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Hand one email to SES; returns the Message-ID SES wrote into it."""
        request = self.send_request(message)
        answer = await self._run(lambda: self._client.send_email(**request))
        message_id = answer["MessageId"]
        domain = MESSAGE_ID_DOMAINS.get(self.region, f"{self.region}.amazonses.com")
        return SendResult(external_id=message_id, email_message_id=f"<{message_id}@{domain}>")

    async def check(self) -> ChannelStatus:
        """GetAccount: proves the keys and tells whether SES lets this account send."""
        try:
            account = await self._run(self._client.get_account)
        except PermanentFailure as failure:
            return ChannelStatus(True, False, f"SES refused the credentials: {failure.text}")
        except TransientFailure as failure:
            return ChannelStatus(True, None, f"SES could not be reached: {failure.text}")
        return ChannelStatus(True, True, _account_detail(account))

    def send_request(self, message: OutboundMessage) -> dict[str, Any]:
        domain = message.from_address.rpartition("@")[2] or "localhost"
        mime = build_email(message, domain=domain).as_bytes(policy=policy.SMTP)
        request: dict[str, Any] = {
            "FromEmailAddress": message.from_address,
            "Destination": {"ToAddresses": [message.to], "CcAddresses": list(message.cc)},
            "Content": {"Raw": {"Data": mime}},
            "EmailTags": [{"Name": "clientcontact_message_id", "Value": str(message.message_id)}],
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        return request

    async def _run(self, call: Callable[[], Any]) -> Any:
        return await call_in_thread(
            lambda: self._classified(call),
            provider="SES",
            timeout=self.timeout,
            deadline=self.timeout * 2 + 1,  # connect + read timeouts
        )

    def _classified(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ClientError as exc:
            raise _failure(exc) from exc
        except NoCredentialsError as exc:
            raise PermanentFailure(f"SES credentials missing: {exc}", code="credentials") from exc
        except BotoCoreError as exc:  # connection refused, DNS, connect and read timeouts
            kind = "timeout" if "timeout" in type(exc).__name__.lower() else "connection"
            raise TransientFailure(f"SES unreachable: {exc}", code=kind) from exc


def _failure(exc: ClientError) -> DeliveryFailure:
    error = exc.response.get("Error", {})
    code = error.get("Code") or "unknown"
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    kind = ERROR_KINDS.get(code) or (TransientFailure if status >= 500 else PermanentFailure)
    text = error.get("Message") or code
    return kind(text, code=code)


def _account_detail(account: dict[str, Any]) -> str:
    quota = account.get("SendQuota") or {}
    facts = [
        "sending enabled" if account.get("SendingEnabled") else "sending PAUSED",
        "production access" if account.get("ProductionAccessEnabled") else "sandbox",
        f"enforcement {account.get('EnforcementStatus', 'unknown')}",
    ]
    if quota:
        facts.append(f"{quota.get('SentLast24Hours', 0):g} of {quota.get('Max24HourSend', 0):g}"
                     " sent in 24 h")
    return "SES: " + ", ".join(facts)
