"""Provider credentials are stored encrypted with a key derived from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken

from clientcontact.errors import ConfigurationError


class CredentialBox:
    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"clientcontact-inbox-credentials:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, credentials: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def open(self, sealed: str) -> dict[str, str]:
        try:
            return json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken as exc:
            raise ConfigurationError(
                "inbox credentials cannot be decrypted: SECRET_KEY changed since they were saved"
            ) from exc
