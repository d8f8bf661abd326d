"""Idempotency keys for the caseworker API, kept in the `idempotency_keys` table.

A client may send `Idempotency-Key: <1 to 200 printable ASCII characters>` with a POST, PUT,
PATCH or DELETE. Keys are scoped to the API token's name. For 24 hours (by the portal's clock)
the same key:

- with the same method, path and body replays the first answer (`Idempotency-Replayed: true`);
- with anything else is refused with 422;
- while the first request is still running (in this process) is refused with 409.

**The key is recorded in the same transaction as the request's effects** (the API runs each write
request as one unit of work: `portal.db.unit_of_work()`), together with the answer. So the key
and the effects are committed together or not at all: after a crash at any moment a retry either
replays the committed answer or does the work, once. No key is ever left "in progress".

An answer of 5xx (or a crash of the handler) is not kept, and its effects are rolled back; nor is
a request refused before its handler ran (bad JSON or fields), so the client can retry with the
same key. Requests without a key are allowed and simply not deduplicated. Only the status and the
JSON body are kept and replayed, not other headers.

Race safety comes from the unique constraint on (token_name, key): of two first requests in
different processes, the second's insert waits for the first's transaction (SQLite: the write
lock; PostgreSQL: the unique index) and then replays its answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import IdempotencyRecord
from core.portal import Portal

KEY_TTL = timedelta(hours=24)
KEY_MAX = 200
KEY_PATTERN = r"^[\x20-\x7E]{1,200}$"
PATH_MAX = 500


def request_hash(method: str, path: str, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8"), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def valid_key(key: str) -> bool:
    return 0 < len(key) <= KEY_MAX and all(32 <= ord(c) < 127 for c in key)


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of presenting a key inside the request's unit of work.

    outcome: "new" (run the handler; `record_id` is ours, completed in the same transaction),
    "replay" (answer with `status`/`body`) or "mismatch" (422).
    """

    outcome: Literal["new", "replay", "mismatch"]
    record_id: int | None = None
    status: int | None = None
    body: str | None = None


async def claim(
    session: AsyncSession, portal: Portal, *, token_name: str, key: str, method: str, path: str, req_hash: str
) -> Claim:
    """Take the key in `session`'s transaction (the request's unit of work), or say what the
    first request with it answered."""
    now = portal.clock.now()
    mine = (IdempotencyRecord.token_name == token_name, IdempotencyRecord.key == key)
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    take = (
        dialect.insert(IdempotencyRecord.__table__)
        .values(
            token_name=token_name, key=key, method=method.upper()[:8], path=path[:PATH_MAX],
            request_hash=req_hash, created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.__table__.c.id)
    )
    inserted = (await session.execute(take)).scalar_one_or_none()
    if inserted is not None:  # a new key: the common case, one statement
        return Claim("new", inserted)
    rec = (await session.execute(select(IdempotencyRecord).where(*mine))).scalar_one()
    if rec.created_at <= now - KEY_TTL or rec.completed_at is None:
        # An expired record frees its key; so does one left without an answer by a version of
        # this service that recorded keys before their effects (it can no longer be trusted).
        await session.delete(rec)
        await session.flush()
        return Claim("new", (await session.execute(take)).scalar_one())
    if rec.request_hash != req_hash:
        return Claim("mismatch")
    return Claim("replay", rec.id, rec.response_status, rec.response_body)


async def complete(session: AsyncSession, portal: Portal, record_id: int, status: int, body: str) -> None:
    """Keep the answer, in the same transaction as the effects."""
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(completed_at=portal.clock.now(), response_status=status, response_body=body)
    )


async def purge_expired(portal: Portal, *, ttl: timedelta = KEY_TTL) -> int:
    """Delete records older than `ttl`. Run it now and then (e.g. hourly). Returns how many."""
    cutoff = portal.clock.now() - ttl
    async with portal.db() as s, s.begin():
        result = await s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= cutoff))
    return result.rowcount or 0
