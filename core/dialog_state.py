"""Where dialogue state lives between messages: the database, so a restart loses no one's place.

Keys follow the chat face's own storage key (bot, chat, user, thread, business connection, destiny).
The bot's storage adapter (bot/storage.py) is a thin layer over this store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import DialogState
from core.portal import Portal
from core.upsert import upsert


@dataclass(frozen=True, slots=True)
class StateKey:
    bot_id: int
    chat_id: int
    user_id: int
    thread_id: int | None = None
    business_connection_id: str | None = None
    destiny: str = "default"

    def columns(self) -> dict[str, Any]:
        return {
            "bot_id": self.bot_id,
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "thread_id": self.thread_id or 0,
            "business_connection_id": self.business_connection_id or "",
            "destiny": self.destiny,
        }


_KEYS = ["bot_id", "chat_id", "user_id", "thread_id", "business_connection_id", "destiny"]


class DialogStateStore:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def _where(self, key: StateKey):  # noqa: ANN202
        return [getattr(DialogState, k) == v for k, v in key.columns().items()]

    async def get(self, key: StateKey) -> tuple[str | None, dict[str, Any]]:
        async with self.portal.db() as session:
            row = (await session.execute(select(DialogState.state, DialogState.data).where(*self._where(key)))).first()
        if row is None:
            return None, {}
        return row.state, (json.loads(row.data) if row.data else {})

    async def get_all(self, key: StateKey) -> dict[str, tuple[str | None, str]]:
        """Every key of `key`'s chat, user, thread and connection, in one query: destiny ->
        (state, data as JSON text)."""
        cols = key.columns()
        where = [getattr(DialogState, k) == cols[k] for k in _KEYS[:-1]]
        async with self.portal.db() as session:
            rows = (await session.execute(
                select(DialogState.destiny, DialogState.state, DialogState.data).where(*where)
            )).all()
        return {r.destiny: (r.state, r.data or "{}") for r in rows}

    async def write_all(self, session: AsyncSession, changes: dict[StateKey, tuple[str | None, dict[str, Any]]]) -> None:
        """Write several keys' (state, data) in the caller's transaction: a key with no state and
        no data is deleted."""
        now = self.portal.clock.now()
        for key, (state, data) in changes.items():
            if state is None and not data:
                await session.execute(delete(DialogState).where(*self._where(key)))
                continue
            blob = json.dumps(data, separators=(",", ":"), default=str) if data else None
            await upsert(session, DialogState.__table__, _KEYS,
                         {**key.columns(), "state": state, "data": blob, "updated_at": now})

    async def _write(self, key: StateKey, **values: Any) -> None:
        now = self.portal.clock.now()
        async with self.portal.db() as session, session.begin():
            current = (
                await session.execute(select(DialogState.state, DialogState.data).where(*self._where(key)))
            ).first()
            state = values.get("state", current.state if current else None)
            data = values.get("data", current.data if current else None)
            if state is None and (data is None or data == "{}"):
                if current is not None:
                    await session.execute(delete(DialogState).where(*self._where(key)))
                return
            await upsert(session, DialogState.__table__, _KEYS, {**key.columns(), "state": state, "data": data, "updated_at": now})

    async def set_state(self, key: StateKey, state: str | None) -> None:
        await self._write(key, state=state)

    async def set_data(self, key: StateKey, data: dict[str, Any]) -> None:
        await self._write(key, data=json.dumps(data, separators=(",", ":"), default=str) if data else None)

    async def erase_chat(self, chat_id: int) -> int:
        """Forget every dialogue of a chat (part of 'delete my data from this chat')."""
        async with self.portal.db() as session, session.begin():
            result = await session.execute(delete(DialogState).where(DialogState.chat_id == chat_id))
            return result.rowcount or 0
