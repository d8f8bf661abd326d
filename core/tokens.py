"""Caseworker API tokens: created and revoked from the command line, checked on every API call.

A token is a long random string shown once when created; only its SHA-256 digest is stored, so
the database (or a backup of it) never holds a usable token. A token is known by its name (a
caseworker or a system, e.g. "case-system"), which is what the audit log records as the actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.audit import Actor, audit
from core.clock import format_datetime
from core.models import ApiToken
from core.portal import Portal
from core.security import new_token, sha256_hex

# last_used_at is refreshed at most this often, so a busy client does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME_MAX = 100
# Longer than any token we issue (43 characters); anything longer is refused without hashing.
TOKEN_MAX = 200


class TokenError(Exception):
    """A token cannot be created (bad name, or the name is in use)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __str__(self) -> str:
        state = "active" if self.active else f"revoked {format_datetime(self.revoked_at)}"  # type: ignore[arg-type]
        used = format_datetime(self.last_used_at) if self.last_used_at else "never"
        return f"{self.name}\tcreated {format_datetime(self.created_at)}\tlast used {used}\t{state}"


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise TokenError("A token needs a name, e.g. the case system's or the caseworker's.")
    if len(name) > NAME_MAX:
        raise TokenError(f"A token name can be at most {NAME_MAX} characters.")
    if any(not ch.isprintable() for ch in name):
        raise TokenError("A token name cannot contain control characters.")
    return name


async def create_token(portal: Portal, name: str) -> str:
    """Create a token called `name` and return it (the only time it is ever seen).

    A name in use by an active token is refused (revoke it first); a revoked name is reused.
    """
    name = _check_name(name)
    token = new_token()
    now = portal.clock.now()
    try:
        async with portal.db() as s, s.begin():
            row = (await s.execute(select(ApiToken).where(ApiToken.name == name))).scalar_one_or_none()
            if row is not None and row.revoked_at is None:
                raise TokenError(f"A token named '{name}' already exists. Revoke it first to replace it.")
            if row is None:
                row = ApiToken(name=name, digest=sha256_hex(token), created_at=now)
                s.add(row)
            else:
                row.digest = sha256_hex(token)
                row.created_at = now
                row.revoked_at = None
                row.last_used_at = None
            await s.flush()
            audit(s, Actor.system("cli"), "api_token.create", at=now, subject=f"api_token:{row.id}")
    except IntegrityError as exc:  # created at the same moment by another process
        raise TokenError(f"A token named '{name}' already exists.") from exc
    return token


async def revoke_token(portal: Portal, name: str) -> bool:
    """Revoke the active token called `name`. False if there is none."""
    now = portal.clock.now()
    async with portal.db() as s, s.begin():
        row = (
            await s.execute(select(ApiToken).where(ApiToken.name == name.strip(), ApiToken.revoked_at.is_(None)))
        ).scalar_one_or_none()
        if row is None:
            return False
        row.revoked_at = now
        audit(s, Actor.system("cli"), "api_token.revoke", at=now, subject=f"api_token:{row.id}")
    return True


async def authenticate(portal: Portal, token: str) -> str | None:
    """The name of the active token `token`, or None."""
    if not token or len(token) > TOKEN_MAX:
        return None
    digest = sha256_hex(token)
    async with portal.db() as s:
        row = (
            await s.execute(
                select(ApiToken.id, ApiToken.name, ApiToken.revoked_at, ApiToken.last_used_at).where(
                    ApiToken.digest == digest
                )
            )
        ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    now = portal.clock.now()
    gate = portal.db.write_gate
    if (row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION) and not (gate and gate.busy):
        # Only a note of when the token was last used: never worth waiting for a writer over.
        async with portal.db() as s, s.begin():
            await s.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return row.name


async def list_tokens(portal: Portal) -> list[TokenInfo]:
    """Every token, active or revoked, by name. Never the tokens themselves."""
    async with portal.db() as s:
        rows = (await s.execute(select(ApiToken).order_by(ApiToken.name))).scalars().all()
    return [TokenInfo(r.name, r.created_at, r.revoked_at, r.last_used_at) for r in rows]
