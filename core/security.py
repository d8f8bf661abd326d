"""Secrets: the server key, random tokens and their digests."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from pydantic import SecretStr


def new_token(nbytes: int = 32) -> str:
    """A long random URL-safe string (43 characters for 32 bytes): API tokens, page tokens."""
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def hmac_hex(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 of the parts, joined unambiguously."""
    msg = "\x1f".join(parts).encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def load_secret_key(configured: SecretStr | None, data_dir: Path) -> bytes:
    """The configured key, or the one in <data_dir>/secret_key, generated (mode 0600) if absent."""
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode("utf-8")
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip().encode("utf-8")
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key.encode("utf-8")
