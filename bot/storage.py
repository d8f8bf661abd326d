"""aiogram FSM storage backed by the portal's database (aiogram-dialog stacks and contexts too).

While an update is handled (`DatabaseStorage.held()`, used by bot/updates.py), the chat's keys
(aiogram's state, aiogram-dialog's stack and contexts) are read from the database in one query
and every change is kept in memory; when the handling ends well, the keys that changed are
written once, in the transaction that marks the update done. A handling that fails
writes nothing: the next try starts from the state as it was. Outside an update (nothing holds
the state), every call reads and writes the database at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from core.dialog_state import DialogStateStore, StateKey


def _key(key: StorageKey) -> StateKey:
    return StateKey(
        bot_id=key.bot_id,
        chat_id=key.chat_id,
        user_id=key.user_id,
        thread_id=key.thread_id,
        business_connection_id=key.business_connection_id,
        destiny=key.destiny,
    )


@dataclass
class Held:
    """One update's view of the dialogue state: what it read, and what it changed."""

    # Each key's state and data as JSON text, exactly as the database would give it back.
    known: dict[StateKey, tuple[str | None, str]] = field(default_factory=dict)
    # The (bot, chat, user, thread, connection) whose keys were all read at once.
    fetched: set[tuple[Any, ...]] = field(default_factory=set)
    # What each changed key held when first read: a key set back to it is not written.
    first: dict[StateKey, tuple[str | None, str]] = field(default_factory=dict)
    changed: set[StateKey] = field(default_factory=set)
    closed: bool = False

    def changes(self) -> dict[StateKey, tuple[str | None, dict[str, Any]]]:
        return {
            k: (self.known[k][0], json.loads(self.known[k][1]))
            for k in self.changed if self.known[k] != self.first[k]
        }

    def put(self, key: StateKey, value: tuple[str | None, str]) -> None:
        self.first.setdefault(key, self.known[key])
        self.known[key] = value
        self.changed.add(key)


_held: ContextVar[Held | None] = ContextVar("ehcp_dialogue_state_held", default=None)


def _text(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


class DatabaseStorage(BaseStorage):
    def __init__(self, store: DialogStateStore) -> None:
        self.store = store

    @contextmanager
    def held(self) -> Iterator[Held]:
        """Hold the dialogue state in memory while the caller handles one update; the caller
        writes `held.changes()` with `write` when it is done (or drops them)."""
        held = Held()
        token = _held.set(held)
        try:
            yield held
        finally:
            held.closed = True
            _held.reset(token)

    async def write(self, session: Any, held: Held) -> None:
        # `session` is core's open transaction (UpdateInbox.finish), passed through untouched.
        changes = held.changes()
        if changes:
            await self.store.write_all(session, changes)

    async def _read(self, key: StateKey) -> tuple[str | None, dict[str, Any]]:
        held = _held.get()
        if held is None or held.closed:
            return await self.store.get(key)
        if key not in held.known:
            chat = (key.bot_id, key.chat_id, key.user_id, key.thread_id, key.business_connection_id)
            if chat not in held.fetched:
                held.fetched.add(chat)
                for destiny, (state, text) in (await self.store.get_all(key)).items():
                    other = StateKey(*chat, destiny=destiny)
                    # Re-serialised as this storage writes it, so "unchanged" compares alike.
                    held.known.setdefault(other, (state, _text(json.loads(text))))
            held.known.setdefault(key, (None, "{}"))
        state, text = held.known[key]
        return state, json.loads(text)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        k = _key(key)
        held = _held.get()
        if held is None or held.closed:
            await self.store.set_state(k, value)
            return
        await self._read(k)
        held.put(k, (value, held.known[k][1]))

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._read(_key(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        k = _key(key)
        held = _held.get()
        if held is None or held.closed:
            await self.store.set_data(k, dict(data))
            return
        await self._read(k)
        held.put(k, (held.known[k][0], _text(dict(data))))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._read(_key(key))
        return data

    async def close(self) -> None:
        return None
