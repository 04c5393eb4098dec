"""Domain errors. Each carries the HTTP status it maps to; app.py maps them once, at the edge."""

from __future__ import annotations


class ClientContactError(Exception):
    """Base for errors a caller can be told about (never a stack trace)."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(ClientContactError):
    status_code = 400
    code = "bad_request"


class BadPayload(BadRequest):
    """A provider or client sent something we cannot read (malformed form, JSON or MIME)."""

    code = "bad_payload"


class Unauthenticated(ClientContactError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(ClientContactError):
    status_code = 403
    code = "forbidden"


class NotFound(ClientContactError):
    status_code = 404
    code = "not_found"


class Conflict(ClientContactError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ClientContactError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(ClientContactError):
    """The request is well-formed but the domain refuses it (e.g. WhatsApp window closed)."""

    status_code = 422
    code = "unprocessable"


class TooManyAttempts(ClientContactError):
    """`retry_after` (seconds) becomes the Retry-After header."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConfigurationError(Exception):
    """Settings that cannot work; the CLI prints the message as one line and exits."""
