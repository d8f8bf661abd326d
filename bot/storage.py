"""aiogram FSM storage backed by the portal's database (aiogram-dialog stacks and contexts too)."""

from __future__ import annotations

from collections.abc import Mapping
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


class DatabaseStorage(BaseStorage):
    def __init__(self, store: DialogStateStore) -> None:
        self.store = store

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self.store.set_state(_key(key), value)

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self.store.get(_key(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self.store.set_data(_key(key), dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self.store.get(_key(key))
        return data

    async def close(self) -> None:
        return None
