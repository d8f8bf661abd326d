"""Where dialogue state lives between messages: the database, so a restart loses no one's place.

Keys follow the chat face's own storage key (bot, chat, user, thread, business connection, destiny).
The bot's storage adapter (bot/storage.py) is a thin layer over this store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
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

# The statements an update runs, built once (each is run on every update: building and hashing a
# statement costs more than SQLite takes to run it). Parameters are named after the key columns.
_T = DialogState.__table__
_CHAT = and_(*(_T.c[k] == bindparam(k) for k in _KEYS[:-1]))
_GET_ALL = select(_T.c.destiny, _T.c.state, _T.c.data).where(_CHAT)
_DELETE = delete(_T).where(_CHAT, _T.c.destiny == bindparam("destiny"))


def _upsert_for(dialect: str):  # noqa: ANN202
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_T)
    return insert.on_conflict_do_update(
        index_elements=_KEYS, set_={c: insert.excluded[c] for c in ("state", "data", "updated_at")}
    )


_UPSERT = {name: _upsert_for(name) for name in ("sqlite", "postgresql")}


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
        async with self.portal.db() as session:
            rows = (await session.execute(_GET_ALL, key.columns())).all()
        return {r.destiny: (r.state, r.data or "{}") for r in rows}

    async def write_all(self, session: AsyncSession, changes: dict[StateKey, tuple[str | None, dict[str, Any]]]) -> None:
        """Write several keys' (state, data) in the caller's transaction: a key with no state and
        no data is deleted."""
        now = self.portal.clock.now()
        gone, kept = [], []
        for key, (state, data) in changes.items():
            if state is None and not data:
                gone.append(key.columns())
                continue
            blob = json.dumps(data, separators=(",", ":"), default=str) if data else None
            kept.append({**key.columns(), "state": state, "data": blob, "updated_at": now})
        if gone:
            await session.execute(_DELETE, gone)
        if kept:
            await session.execute(_UPSERT[session.bind.dialect.name], kept)

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
