"""Settings from the environment (and an optional .env), keeping the names existing users know.

Nothing happens at import: `Settings()` is built by the CLI or a test and passed to
`create_app(settings)`.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from clientcontact.errors import ConfigurationError

EmailService = Literal["sendgrid", "ses", "smtp", "mock"]
SmsService = Literal["twilio", "mock"]
DEFAULT_PORTS = {"postgresql": 5432}  # a URL naming the default port means the same server

# Which variables each provider cannot start without.
REQUIRED_FOR_PROVIDER: dict[str, tuple[str, ...]] = {
    "sendgrid": ("SENDGRID_API_KEY",),
    "ses": ("AWS_SES_REGION", "AWS_SES_ACCESS_KEY", "AWS_SES_SECRET_KEY"),
    "smtp": ("SMTP_HOST",),
    "twilio": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER"),
    "mock": (),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Where the embedded default keeps its SQLite file, attachments and secret key.
    data_dir: Path = Path("data")
    database_url: str | None = None
    secret_key: str | None = None
    public_url: str = "http://127.0.0.1:8000"

    email_service: EmailService = "mock"
    sendgrid_api_key: str | None = None
    sendgrid_api_host: str | None = None  # e.g. https://api.eu.sendgrid.com
    # Signed Event Webhook public key (base64 DER) and the Inbound Parse URL secret.
    sendgrid_webhook_verification_key: str | None = None
    sendgrid_inbound_secret: str | None = None
    aws_ses_region: str = "us-east-1"
    aws_ses_access_key: str | None = None
    aws_ses_secret_key: str | None = None
    aws_ses_endpoint_url: str | None = None
    aws_ses_sns_topic_arn: str | None = None  # the topic SES publishes to; others are refused
    # Where SNS signing certificates may be fetched from (tests serve one on loopback).
    sns_certificate_hosts: tuple[str, ...] = (r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?",)
    sns_certificate_schemes: tuple[str, ...] = ("https",)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    from_email: str = "support@example.com"
    from_name: str = "Support"
    # Domain of the per-conversation reply addresses; defaults to FROM_EMAIL's domain.
    inbound_email_domain: str | None = None

    sms_service: SmsService = "mock"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_phone_number: str | None = None
    twilio_whatsapp_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str | None = None
    default_phone_region: str = "US"

    # Mock inboxes' webhooks carry no signature: refused unless this is set (demos, local dev).
    # It never affects a real provider, whose requests are always verified.
    accept_unsigned_mock_webhooks: bool = False

    redis_url: str | None = None
    # Prefix of every Redis key and channel; unset: derived from the database (see below).
    redis_namespace: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    run_worker_in_process: bool = True
    # An idle worker's fallback poll; unset: 5 s on PostgreSQL (workers are woken by NOTIFY),
    # 1 s on SQLite (only a worker inside the process that enqueues is woken).
    worker_poll_seconds: float | None = Field(default=None, gt=0)
    max_request_bytes: int = Field(default=30 * 1024 * 1024, gt=0)
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    reopen_window_days: int = Field(default=30, ge=0)
    # Backoff doubles up to an hour, so 30 attempts outlast the 24-hour age limit: while a
    # provider is down for hours, messages stay queued rather than failing.
    delivery_max_attempts: int = Field(default=30, ge=1)
    delivery_max_age_seconds: int = Field(default=24 * 3600, ge=60)
    delivery_lease_seconds: int = Field(default=60, ge=5)
    # How long one provider call may take before it counts as a (transient) timeout.
    provider_timeout_seconds: float = Field(default=15.0, gt=0)
    # Jobs one worker runs at once; unset: 4 on PostgreSQL, 1 on SQLite (one writer at a time).
    worker_concurrency: int | None = Field(default=None, ge=1, le=64)
    login_max_age_days: int = Field(default=14, ge=1)
    # The demo account with its published login: unset, only on a laptop-like server (mock
    # providers, no https PUBLIC_URL); true or false decides outright.
    seed_demo: bool | None = None
    # Proxies (IPs or networks, comma-separated) whose X-Forwarded-For names the client: the
    # login throttle counts per client IP. Unset, the header is ignored (it is easily forged).
    trusted_proxies: str = ""

    @field_validator("public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'clientcontact.db'}"

    @property
    def resolved_redis_namespace(self) -> str:
        """REDIS_NAMESPACE, or one derived from the database: servers of one installation
        share their database, so they share a namespace, and two installations on one Redis
        never hear each other's events. Derived from where the database is (engine, host,
        port, name, user), never from its password or SECRET_KEY, since Redis shows its
        channel names to anyone connected."""
        if self.redis_namespace:
            return self.redis_namespace
        url = make_url(self.resolved_database_url)
        backend = url.get_backend_name()
        if backend == "sqlite":
            where = str(Path(url.database or "").resolve())
        else:
            port = url.port or DEFAULT_PORTS.get(backend, "")
            where = f"{url.username or ''}@{(url.host or '').lower()}:{port}/{url.database}"
        return "clientcontact-" + hashlib.sha256(f"{backend}:{where}".encode()).hexdigest()[:16]

    def redis_key(self, name: str) -> str:
        """A Redis key or channel name of this installation (the one place for the prefix)."""
        return f"{self.resolved_redis_namespace}:{name}"

    @property
    def reply_domain(self) -> str:
        return self.inbound_email_domain or self.from_email.rpartition("@")[2]

    @property
    def cookie_secure(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def demo_deployment(self) -> bool:
        """Whether the demo login belongs here. A server with a real provider or an https
        PUBLIC_URL is a real deployment unless SEED_DEMO=true says otherwise."""
        if self.seed_demo is not None:
            return self.seed_demo
        mock_only = self.email_service == "mock" and self.sms_service == "mock"
        return mock_only and not self.cookie_secure

    def resolved_secret_key(self) -> str:
        """SECRET_KEY, or one kept in the data directory so a laptop install needs no setup."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def check_providers(self) -> None:
        """Refuse to start with a provider chosen but its credentials missing."""
        for chooser, provider in (("EMAIL_SERVICE", self.email_service),
                                  ("SMS_SERVICE", self.sms_service)):
            for variable in REQUIRED_FOR_PROVIDER[provider]:
                if not getattr(self, variable.lower()):
                    raise ConfigurationError(
                        f"{chooser}={provider} needs {variable} to be set (see .env.example)"
                    )
