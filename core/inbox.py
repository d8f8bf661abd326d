"""Inbound updates: stored before they are acknowledged, processed once, from the table.

Opaque to the core: an update is an id, an optional chat id (for ordering) and a JSON payload,
kept exactly as Telegram sent it. An update is pending until it is marked processed, or failed
(it could not be read, or kept failing): a failed one keeps its JSON and its error for the
operator (`ehcp-bot updates failed`) and is never handled again unless the operator says so.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import persist
from core.models import InboundUpdate
from core.portal import Portal

log = logging.getLogger(__name__)

ERROR_MAX = 500

_T = InboundUpdate.__table__
# Built once: run for every update handled.
_DONE = (
    update(_T)
    .where(_T.c.bot_id == bindparam("b"), _T.c.update_id == bindparam("u"))
    .values(processed_at=bindparam("at", type_=_T.c.processed_at.type), payload=None)
)


@dataclass(frozen=True, slots=True)
class Stored:
    update_id: int
    chat_id: int | None
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class FailedUpdate:
    update_id: int
    chat_id: int | None
    received_at: datetime
    failed_at: datetime
    attempts: int
    error: str
    payload: str | None


class UpdateInbox:
    def __init__(self, portal: Portal, bot_id: int | None, *, max_attempts: int = 5) -> None:
        """`bot_id` None: the operator's view over every bot's updates (failed, retry_failed,
        counts only)."""
        self.portal = portal
        self.bot_id = bot_id
        self.max_attempts = max_attempts

    async def store(self, updates: list[tuple[int, int | None, dict[str, Any]]]) -> list[int]:
        """Store (update_id, chat_id, payload) rows; return the ids that were new, in order. A
        repeat (already stored, or twice in this batch) is dropped."""
        rows: dict[int, dict[str, Any]] = {}
        now = self.portal.clock.now()
        for uid, chat_id, payload in updates:
            if uid in rows:
                continue  # the same update_id twice in one batch: the first copy counts
            rows[uid] = {
                "bot_id": self.bot_id,
                "update_id": uid,
                "chat_id": chat_id,
                "received_at": now,
                "payload": json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
                "attempts": 0,
            }
        if not rows:
            return []

        async def write() -> list[int]:
            async with self.portal.db() as session, session.begin():
                dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
                stmt = (
                    dialect.insert(InboundUpdate.__table__)
                    .values(list(rows.values()))
                    .on_conflict_do_nothing()
                    .returning(InboundUpdate.__table__.c.update_id)
                )
                inserted = set((await session.execute(stmt)).scalars().all())
            return [uid for uid in rows if uid in inserted]

        return await persist("storing updates", write)

    def _mine(self) -> list:
        return [] if self.bot_id is None else [InboundUpdate.bot_id == self.bot_id]

    def _pending(self):  # noqa: ANN202
        return (
            InboundUpdate.bot_id == self.bot_id,
            InboundUpdate.processed_at.is_(None),
            InboundUpdate.failed_at.is_(None),
        )

    async def pending(self, limit: int = 500) -> list[Stored]:
        """Updates stored but not yet processed (after a crash, these are handled first)."""
        async with self.portal.db() as session:
            rows = (
                await session.execute(
                    select(InboundUpdate).where(*self._pending()).order_by(InboundUpdate.update_id).limit(limit)
                )
            ).scalars()
            return [Stored(r.update_id, r.chat_id, json.loads(r.payload or "{}"), r.attempts) for r in rows]

    async def load(self, update_id: int) -> Stored | None:
        async with self.portal.db() as session:
            r = await session.get(InboundUpdate, (self.bot_id, update_id))
            if r is None or r.processed_at is not None or r.failed_at is not None:
                return None
            return Stored(r.update_id, r.chat_id, json.loads(r.payload or "{}"), r.attempts)

    async def finish(self, update_id: int, also: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """Handled: `also` writes what the handling left to write (the dialogue's state, the
        audit of its reads) in the same transaction that marks the update done, retried
        through a busy database like `mark_processed`."""

        async def write() -> None:
            async with self.portal.db() as session, session.begin():
                await also(session)
                await session.execute(_DONE, {"b": self.bot_id, "u": update_id, "at": self.portal.clock.now()})

        await persist(f"finishing update {update_id}", write)

    async def mark_processed(self, update_id: int) -> None:
        """Handled: the payload is dropped (what it carried lives in its own tables). Retried
        through a busy database, so a handled update is not handled again for want of a lock."""

        async def write() -> None:
            async with self.portal.db() as session, session.begin():
                await session.execute(
                    update(InboundUpdate)
                    .where(InboundUpdate.bot_id == self.bot_id, InboundUpdate.update_id == update_id)
                    .values(processed_at=self.portal.clock.now(), payload=None)
                )

        await persist(f"marking update {update_id} done", write)

    async def record_attempt(self, update_id: int) -> int:
        """Count one failed try at handling an update; returns the tries so far."""

        async def write() -> int:
            async with self.portal.db() as session, session.begin():
                return (
                    await session.execute(
                        update(InboundUpdate)
                        .where(InboundUpdate.bot_id == self.bot_id, InboundUpdate.update_id == update_id)
                        .values(attempts=InboundUpdate.attempts + 1)
                        .returning(InboundUpdate.attempts)
                    )
                ).scalar_one_or_none() or 0

        return await persist(f"counting a try of update {update_id}", write)

    async def mark_failed(self, update_id: int, error: str) -> None:
        """Given up: kept with its JSON and the error for the operator, never handled again."""

        async def write() -> None:
            async with self.portal.db() as session, session.begin():
                await session.execute(
                    update(InboundUpdate)
                    .where(InboundUpdate.bot_id == self.bot_id, InboundUpdate.update_id == update_id)
                    .values(failed_at=self.portal.clock.now(), last_error=error[:ERROR_MAX])
                )

        await persist(f"marking update {update_id} failed", write)

    async def failed(self, limit: int = 100) -> list[FailedUpdate]:
        """The updates given up, newest first (for `ehcp-bot updates failed`)."""
        async with self.portal.db() as session:
            rows = (
                await session.execute(
                    select(InboundUpdate)
                    .where(*self._mine(), InboundUpdate.failed_at.is_not(None))
                    .order_by(InboundUpdate.failed_at.desc(), InboundUpdate.update_id.desc())
                    .limit(limit)
                )
            ).scalars()
            return [
                FailedUpdate(r.update_id, r.chat_id, r.received_at, r.failed_at, r.attempts, r.last_error or "", r.payload)
                for r in rows
            ]

    async def retry_failed(self, update_ids: list[int] | None = None) -> int:
        """Make failed updates pending again (after a fix), with their tries reset."""
        async with self.portal.db() as session, session.begin():
            where = [*self._mine(), InboundUpdate.failed_at.is_not(None), InboundUpdate.payload.is_not(None)]
            if update_ids is not None:
                where.append(InboundUpdate.update_id.in_(update_ids))
            result = await session.execute(
                update(InboundUpdate).where(*where).values(failed_at=None, last_error=None, attempts=0)
            )
            return result.rowcount or 0

    async def counts(self) -> dict[str, int]:
        async with self.portal.db() as session:
            pending = await session.scalar(
                select(func.count()).select_from(InboundUpdate).where(
                    *self._mine(), InboundUpdate.processed_at.is_(None), InboundUpdate.failed_at.is_(None)
                )
            )
            failed = await session.scalar(
                select(func.count()).select_from(InboundUpdate).where(*self._mine(), InboundUpdate.failed_at.is_not(None))
            )
        return {"pending": pending or 0, "failed": failed or 0}

    async def forget_chat(self, chat_id: int) -> None:
        """Erase stored updates of a chat (part of 'delete my data from this chat')."""
        async with self.portal.db() as session, session.begin():
            await session.execute(delete(InboundUpdate).where(InboundUpdate.chat_id == chat_id))

    async def cleanup(self, keep: timedelta = timedelta(days=2), keep_failed: timedelta = timedelta(days=30)) -> int:
        """Drop records of processed updates older than `keep` (Telegram never repeats them that
        late), and failed ones older than `keep_failed`."""
        now = self.portal.clock.now()
        async with self.portal.db() as session, session.begin():
            done = await session.execute(
                delete(InboundUpdate).where(
                    InboundUpdate.processed_at.is_not(None), InboundUpdate.received_at < now - keep
                )
            )
            failed = await session.execute(
                delete(InboundUpdate).where(
                    InboundUpdate.failed_at.is_not(None), InboundUpdate.failed_at < now - keep_failed
                )
            )
            return (done.rowcount or 0) + (failed.rowcount or 0)
