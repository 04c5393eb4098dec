"""Attachment bytes live in a file store; rows keep only the key, name, type and size."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path


class LocalFileStore:
    """A directory on disk: the embedded default. An S3-compatible store can stand in later."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, account_id: int, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{account_id}/{digest[:2]}/{digest}-{secrets.token_hex(4)}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # readers never see half a file
        return key

    def get(self, key: str) -> bytes:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise FileNotFoundError(key)
        return path.read_bytes()
