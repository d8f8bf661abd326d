"""Inbound updates: stored before they are acknowledged, processed once, from the table.

Opaque to the core: an update is an id, an optional chat id (for ordering) and a JSON payload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from core.models import InboundUpdate
from core.portal import Portal
from core.upsert import insert_ignore


@dataclass(frozen=True, slots=True)
class Stored:
    update_id: int
    chat_id: int | None
    payload: dict[str, Any]
    attempts: int


class UpdateInbox:
    def __init__(self, portal: Portal, bot_id: int, *, max_attempts: int = 5) -> None:
        self.portal = portal
        self.bot_id = bot_id
        self.max_attempts = max_attempts

    async def store(self, updates: list[tuple[int, int | None, dict[str, Any]]]) -> list[int]:
        """Store (update_id, chat_id, payload) rows; return the ids that were new (a repeat is dropped)."""
        if not updates:
            return []
        now = self.portal.clock.now()
        ids = [u[0] for u in updates]
        async with self.portal.db() as session, session.begin():
            seen = set(
                (
                    await session.scalars(
                        select(InboundUpdate.update_id).where(
                            InboundUpdate.bot_id == self.bot_id, InboundUpdate.update_id.in_(ids)
                        )
                    )
                ).all()
            )
            rows = [
                {
                    "bot_id": self.bot_id,
                    "update_id": uid,
                    "chat_id": chat_id,
                    "received_at": now,
                    "payload": json.dumps(payload, separators=(",", ":")),
                    "attempts": 0,
                }
                for uid, chat_id, payload in updates
                if uid not in seen
            ]
            await insert_ignore(session, InboundUpdate.__table__, rows)
        return [r["update_id"] for r in rows]

    async def pending(self, limit: int = 500) -> list[Stored]:
        """Updates stored but not yet processed (after a crash, these are handled first)."""
        async with self.portal.db() as session:
            rows = (
                await session.execute(
                    select(InboundUpdate)
                    .where(InboundUpdate.bot_id == self.bot_id, InboundUpdate.processed_at.is_(None))
                    .order_by(InboundUpdate.update_id)
                    .limit(limit)
                )
            ).scalars()
            return [Stored(r.update_id, r.chat_id, json.loads(r.payload or "{}"), r.attempts) for r in rows]

    async def load(self, update_id: int) -> Stored | None:
        async with self.portal.db() as session:
            r = await session.get(InboundUpdate, (self.bot_id, update_id))
            if r is None or r.processed_at is not None:
                return None
            return Stored(r.update_id, r.chat_id, json.loads(r.payload or "{}"), r.attempts)

    async def mark_processed(self, update_id: int) -> None:
        async with self.portal.db() as session, session.begin():
            await session.execute(
                update(InboundUpdate)
                .where(InboundUpdate.bot_id == self.bot_id, InboundUpdate.update_id == update_id)
                .values(processed_at=self.portal.clock.now(), payload=None)
            )

    async def mark_failed_attempt(self, update_id: int) -> bool:
        """Count a failed attempt; past max_attempts the update is given up (processed, payload cleared).

        Returns True if it should be tried again.
        """
        async with self.portal.db() as session, session.begin():
            row = await session.get(InboundUpdate, (self.bot_id, update_id))
            if row is None:
                return False
            row.attempts += 1
            if row.attempts >= self.max_attempts:
                row.processed_at = self.portal.clock.now()
                row.payload = None
                return False
            return True

    async def forget_chat(self, chat_id: int) -> None:
        """Erase stored updates of a chat (part of 'delete my data from this chat')."""
        async with self.portal.db() as session, session.begin():
            await session.execute(delete(InboundUpdate).where(InboundUpdate.chat_id == chat_id))

    async def cleanup(self, keep: timedelta = timedelta(days=2)) -> int:
        """Drop records of processed updates older than `keep` (Telegram never repeats them that late)."""
        cutoff = self.portal.clock.now() - keep
        async with self.portal.db() as session, session.begin():
            result = await session.execute(
                delete(InboundUpdate).where(
                    InboundUpdate.processed_at.is_not(None), InboundUpdate.received_at < cutoff
                )
            )
            return result.rowcount or 0
