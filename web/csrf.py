"""CSRF tokens for the parents' forms: stateless, signed with the server key.

A token is `<timestamp>.<nonce>.<mac>` where mac = HMAC-SHA256(secret_key, "csrf-v1", target,
nonce, timestamp) and `target` is the path the form posts to. Those paths carry the parent's
secret page token (e.g. /link/<token>), so a token made for one form or one parent does not
validate for another, and no page can be forged from outside without knowing the link. The
nonce makes every rendered form's token different; the timestamp makes it expire.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from core.security import constant_time_equal, hmac_hex, new_token

CSRF_FIELD = "_csrf"
DEFAULT_MAX_AGE = timedelta(hours=2)
CLOCK_SKEW = timedelta(minutes=1)
_TOKEN_MAX = 200


def _target(path_or_url: str) -> str:
    return urlsplit(path_or_url).path or "/"


def make_csrf_token(key: bytes, target: str, now: datetime) -> str:
    ts = str(int(now.timestamp()))
    nonce = new_token(12)
    return f"{ts}.{nonce}.{hmac_hex(key, 'csrf-v1', _target(target), nonce, ts)}"


def check_csrf_token(
    key: bytes, token: str | None, target: str, now: datetime, max_age: timedelta = DEFAULT_MAX_AGE
) -> bool:
    if not token or len(token) > _TOKEN_MAX:
        return False
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return False
    ts, nonce, mac = parts
    if not constant_time_equal(mac, hmac_hex(key, "csrf-v1", _target(target), nonce, ts)):
        return False
    age = now.timestamp() - int(ts)
    return -CLOCK_SKEW.total_seconds() <= age <= max_age.total_seconds()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
