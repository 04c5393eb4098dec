"""Which adapter serves which provider: one line per provider, built per inbox from that inbox's
own credentials (or, for the default inboxes, the environment's)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from clientcontact.channels.base import INBOUND, STATUS, ChannelAdapter, ChannelKind
from clientcontact.channels.mock.receiver import MockReceiver
from clientcontact.channels.mock.sender import MockSender
from clientcontact.channels.sendgrid.events import SendGridEvents
from clientcontact.channels.sendgrid.inbound_parse import SendGridInboundParse
from clientcontact.channels.sendgrid.sender import SendGridSender
from clientcontact.channels.ses.notifications import SesInbound
from clientcontact.channels.ses.sender import SesSender
from clientcontact.channels.ses.sns import SnsVerifier, TrustedHosts
from clientcontact.channels.smtp.sender import SmtpSender
from clientcontact.channels.twilio.inbound import TwilioInbound
from clientcontact.channels.twilio.sender import TwilioSender
from clientcontact.errors import ConfigurationError
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.secrets import CredentialBox
from clientcontact.settings import Settings

# The environment variable behind each credential of the default inboxes.
ENVIRONMENT_CREDENTIALS: dict[str, dict[str, str]] = {
    "sendgrid": {"api_key": "sendgrid_api_key", "host": "sendgrid_api_host",
                 "webhook_verification_key": "sendgrid_webhook_verification_key",
                 "inbound_secret": "sendgrid_inbound_secret"},
    "ses": {"region": "aws_ses_region", "access_key": "aws_ses_access_key",
            "secret_key": "aws_ses_secret_key", "endpoint_url": "aws_ses_endpoint_url",
            "topic_arn": "aws_ses_sns_topic_arn"},
    "smtp": {"host": "smtp_host", "port": "smtp_port", "username": "smtp_username",
             "password": "smtp_password", "security": "smtp_security"},
    "twilio": {"account_sid": "twilio_account_sid", "auth_token": "twilio_auth_token",
               "messaging_service_sid": "twilio_messaging_service_sid",
               "api_base_url": "twilio_api_base_url"},
    "mock": {},
}


@dataclass(frozen=True)
class AdapterContext:
    """What building an adapter may use besides the inbox itself; one per process."""

    settings: Settings
    box: CredentialBox
    sns_verifier: SnsVerifier = field(init=False)

    def __post_init__(self) -> None:
        trusted = TrustedHosts(self.settings.sns_certificate_hosts,
                               self.settings.sns_certificate_schemes)
        object.__setattr__(self, "sns_verifier", SnsVerifier(trusted))  # shares its cert cache

    def credentials(self, inbox: Inbox) -> dict[str, str]:
        """The inbox's own credentials; an inbox without any uses the environment's."""
        if inbox.credentials_encrypted:
            return self.box.open(inbox.credentials_encrypted)
        names = ENVIRONMENT_CREDENTIALS[inbox.provider]
        values = {key: getattr(self.settings, name) for key, name in names.items()}
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def _require(credentials: dict[str, str], inbox: Inbox, *keys: str) -> list[str]:
    missing = [key for key in keys if not credentials.get(key)]
    if missing:
        raise ConfigurationError(
            f"inbox {inbox.name!r} ({inbox.provider}) has no {', '.join(missing)} configured")
    return [credentials[key] for key in keys]


def _mock(inbox: Inbox, context: AdapterContext) -> ChannelAdapter:
    sender = MockSender(context.settings.data_dir / "mock-outbox.jsonl")
    receiver = MockReceiver(inbox.channel,
                            accept_unsigned=context.settings.accept_unsigned_mock_webhooks)
    return ChannelAdapter(inbox.channel, "mock", sender, {INBOUND: receiver, STATUS: receiver})


def _twilio(inbox: Inbox, context: AdapterContext) -> ChannelAdapter:
    credentials = context.credentials(inbox)
    account_sid, auth_token = _require(credentials, inbox, "account_sid", "auth_token")
    service = credentials.get("messaging_service_sid")
    sender = TwilioSender(
        account_sid, auth_token, messaging_service_sid=service,
        from_number=None if service else inbox.address,
        api_base_url=credentials.get("api_base_url"),
        default_region=context.settings.default_phone_region,
        timeout=context.settings.provider_timeout_seconds)
    receiver = TwilioInbound(auth_token)  # statuses and messages are signed alike
    return ChannelAdapter(inbox.channel, "twilio", sender, {INBOUND: receiver, STATUS: receiver})


def _sendgrid(inbox: Inbox, context: AdapterContext) -> ChannelAdapter:
    credentials = context.credentials(inbox)
    [api_key] = _require(credentials, inbox, "api_key")
    key = credentials.get("webhook_verification_key")
    receivers = {INBOUND: SendGridInboundParse(credentials.get("inbound_secret"),
                                               credentials.get("inbound_verification_key"))}
    if key:
        receivers[STATUS] = SendGridEvents(key)
    sender = SendGridSender(api_key, host=credentials.get("host"),
                            timeout=context.settings.provider_timeout_seconds)
    return ChannelAdapter(inbox.channel, "sendgrid", sender, receivers)


def _ses(inbox: Inbox, context: AdapterContext) -> ChannelAdapter:
    credentials = context.credentials(inbox)
    sender = SesSender(credentials.get("region") or context.settings.aws_ses_region,
                       credentials.get("access_key"), credentials.get("secret_key"),
                       endpoint_url=credentials.get("endpoint_url"),
                       timeout=context.settings.provider_timeout_seconds)
    receiver = SesInbound(credentials.get("topic_arn"), context.sns_verifier)
    return ChannelAdapter(inbox.channel, "ses", sender, {INBOUND: receiver, STATUS: receiver})


def _smtp(inbox: Inbox, context: AdapterContext) -> ChannelAdapter:
    """SMTP only sends; its inboxes receive through a provider's inbound webhook or not at all."""
    credentials = context.credentials(inbox)
    [host] = _require(credentials, inbox, "host")
    sender = SmtpSender(host, int(credentials.get("port") or 587),
                        username=credentials.get("username"),
                        password=credentials.get("password"),
                        security=credentials.get("security") or "starttls",  # type: ignore[arg-type]
                        timeout=context.settings.provider_timeout_seconds)
    return ChannelAdapter(inbox.channel, "smtp", sender)


ADAPTERS: dict[str, Callable[[Inbox, AdapterContext], ChannelAdapter]] = {
    "mock": _mock,
    "twilio": _twilio,
    "sendgrid": _sendgrid,
    "ses": _ses,
    "smtp": _smtp,
}

# Which providers can serve which channel.
PROVIDERS_FOR_CHANNEL: dict[ChannelKind, tuple[str, ...]] = {
    ChannelKind.EMAIL: ("mock", "sendgrid", "ses", "smtp"),
    ChannelKind.SMS: ("mock", "twilio"),
    ChannelKind.WHATSAPP: ("mock", "twilio"),
}


def adapter_for(inbox: Inbox, context: AdapterContext) -> ChannelAdapter:
    return ADAPTERS[inbox.provider](inbox, context)
