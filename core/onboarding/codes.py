"""The invitation's unique code and deep-link token.

The unique code is 8 characters from an alphabet without look-alikes (no I, L, O, 0, 1), shown
as ABCD-2345; 31^8 is about 8.5e11, and only HMAC(server key, "invitation-code", code) is stored.
The deep-link token is `secrets.token_urlsafe(32)`: 43 characters of A-Za-z0-9_-, within
Telegram's 64 for a /start payload; only its SHA-256 digest is stored.
"""

from __future__ import annotations

import re
import secrets

from core.security import hmac_hex, new_token, sha256_hex

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-_.]+")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalise_code(text: str) -> str | None:
    """The code as typed (any case, spaces or dashes) in canonical form, or None if it cannot be one."""
    if not text or len(text) > 40:
        return None
    code = _SEPARATORS.sub("", text).upper()
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def code_hmac(key: bytes, code: str) -> str:
    return hmac_hex(key, "invitation-code", code)


def new_link_token() -> str:
    return new_token(32)


def plausible_token(token: str) -> bool:
    return bool(token) and bool(_TOKEN.match(token))


def token_digest(token: str) -> str:
    return sha256_hex(token)
