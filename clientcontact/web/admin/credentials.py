"""The provider keys an admin types when creating an inbox. The keys are the adapters'
credential names (`channels/registry.py`); hooks for pointing an adapter at a test server
(API base URLs, endpoints) stay API-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clientcontact.errors import BadRequest


@dataclass(frozen=True)
class CredentialField:
    key: str
    label: str
    secret: bool = False
    required: bool = False

    def form_name(self, provider: str) -> str:
        return f"cred_{provider}_{self.key}"


CREDENTIAL_FIELDS: dict[str, tuple[CredentialField, ...]] = {
    "twilio": (
        CredentialField("account_sid", "Account SID", required=True),
        CredentialField("auth_token", "Auth token", secret=True, required=True),
        CredentialField("messaging_service_sid", "Messaging Service SID (sends instead of the "
                                                 "inbox's number)"),
    ),
    "sendgrid": (
        CredentialField("api_key", "API key", secret=True, required=True),
        CredentialField("inbound_verification_key",
                        "Inbound Parse verification key (public key, when signed)"),
        CredentialField("inbound_secret", "Inbound Parse secret (when not signed)", secret=True),
        CredentialField("webhook_verification_key", "Event Webhook verification key (public key)"),
    ),
    "ses": (
        CredentialField("region", "Region", required=True),
        CredentialField("access_key", "Access key ID", required=True),
        CredentialField("secret_key", "Secret access key", secret=True, required=True),
        CredentialField("topic_arn", "SNS topic ARN of the inbound and event notifications"),
    ),
    "smtp": (
        CredentialField("host", "Host", required=True),
        CredentialField("port", "Port (587 when empty)"),
        CredentialField("security", "Security: starttls, tls or none (starttls when empty)"),
        CredentialField("username", "Username"),
        CredentialField("password", "Password", secret=True),
    ),
    "mock": (),
}
SMTP_SECURITY = ("starttls", "tls", "none")


def credentials_from_form(provider: str, form: Mapping[str, str]) -> dict[str, str] | None:
    """The typed keys of `provider`, or None when none was typed: the inbox then uses the
    environment's keys, like the default inboxes. Half a set is refused, naming what is
    missing, so an inbox never silently mixes its own keys with the environment's."""
    fields = CREDENTIAL_FIELDS.get(provider, ())
    typed = {f.key: value.strip() for f in fields
             if (value := form.get(f.form_name(provider)) or "").strip()}
    if not typed:
        return None
    missing = [f.label for f in fields if f.required and f.key not in typed]
    if missing:
        raise BadRequest(f"{provider} needs {', '.join(missing)} (or leave all of its fields "
                         "empty to use the environment's keys)")
    if provider == "smtp":
        _check_smtp(typed)
    return typed


def _check_smtp(typed: dict[str, str]) -> None:
    if not typed.get("port", "587").isdigit():
        raise BadRequest("the SMTP port is a number, such as 587 or 465")
    if typed.get("security", "starttls") not in SMTP_SECURITY:
        raise BadRequest("SMTP security is starttls, tls or none")
