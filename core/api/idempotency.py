"""Idempotency keys for the caseworker API, kept in the `idempotency_keys` table.

A client may send `Idempotency-Key: <any string up to 200 characters>` with a POST, PATCH or
DELETE. Keys are scoped to the API token's name. The first request with a key records it (with
a hash of method, path and body) as in progress, runs, and then stores its status and body. For
24 hours (by the portal's clock) the same key:

- with the same method, path and body replays the stored answer (`Idempotency-Replayed: true`);
- with anything else is refused with 422;
- while the first request is still running is refused with 409.

An answer of 5xx (or a crash of the handler) is not kept, nor is a request refused before its
handler ran (bad JSON or fields), so the client can retry with the same key. Requests without a
key are allowed and simply not deduplicated.

Only the status and the JSON body are kept and replayed, not other headers. A record left in
progress by a crash keeps answering 409 until it expires (24 hours): the frame cannot know
whether the crashed handler's changes were committed.

Race safety comes from the unique constraint on (token_name, key): of two first requests that
arrive together, one inserts the record and the other gets 409.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.models import IdempotencyRecord
from core.portal import Portal

KEY_TTL = timedelta(hours=24)
KEY_MAX = 200
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
    """The outcome of presenting a key.

    outcome: "new" (run the handler; `record_id` is ours), "replay" (answer with
    `status`/`body`), "mismatch" (422) or "in_progress" (409).
    """

    outcome: Literal["new", "replay", "mismatch", "in_progress"]
    record_id: int | None = None
    status: int | None = None
    body: str | None = None


async def claim(portal: Portal, *, token_name: str, key: str, method: str, path: str, req_hash: str) -> Claim:
    now = portal.clock.now()
    try:
        async with portal.db() as s, s.begin():
            rec = (
                await s.execute(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.token_name == token_name, IdempotencyRecord.key == key
                    )
                )
            ).scalar_one_or_none()
            if rec is not None and now - rec.created_at >= KEY_TTL:
                await s.delete(rec)  # expired: the key is free again
                await s.flush()
                rec = None
            if rec is not None:
                if rec.request_hash != req_hash:
                    return Claim("mismatch")
                if rec.completed_at is None:
                    return Claim("in_progress")
                return Claim("replay", rec.id, rec.response_status, rec.response_body)
            rec = IdempotencyRecord(
                token_name=token_name,
                key=key,
                method=method.upper()[:8],
                path=path[:PATH_MAX],
                request_hash=req_hash,
                created_at=now,
            )
            s.add(rec)
            await s.flush()
            return Claim("new", rec.id)
    except IntegrityError:
        # Another first request with this key inserted its record in the meantime.
        return Claim("in_progress")


async def complete(portal: Portal, record_id: int, status: int, body: str) -> None:
    async with portal.db() as s, s.begin():
        await s.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .values(completed_at=portal.clock.now(), response_status=status, response_body=body)
        )


async def release(portal: Portal, record_id: int) -> None:
    """Forget an in-progress key (the handler failed), so the client may retry with it."""
    async with portal.db() as s, s.begin():
        await s.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.id == record_id, IdempotencyRecord.completed_at.is_(None)
            )
        )


async def purge_expired(portal: Portal, *, ttl: timedelta = KEY_TTL) -> int:
    """Delete records older than `ttl`. Run it now and then (e.g. hourly). Returns how many."""
    cutoff = portal.clock.now() - ttl
    async with portal.db() as s, s.begin():
        result = await s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= cutoff))
    return result.rowcount or 0
