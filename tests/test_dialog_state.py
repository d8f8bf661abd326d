"""Dialogue state lives in the database: aiogram's storage contract, keyed like aiogram's own."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from bot.storage import DatabaseStorage
from core.dialog_state import DialogStateStore
from core.models import DialogState
from ehcp.bootstrap import build_portal


class Form(StatesGroup):
    name = State()


def key(**kw) -> StorageKey:
    base = {"bot_id": 1, "chat_id": 10, "user_id": 10}
    base.update(kw)
    return StorageKey(**base)


async def test_state_and_data_round_trip_and_survive_a_new_portal(portal, settings, clock):
    storage = DatabaseStorage(DialogStateStore(portal))
    await storage.set_state(key(), Form.name)
    await storage.set_data(key(), {"answer": "Sam", "n": 3, "nested": {"a": [1, 2]}})
    assert await storage.get_state(key()) == "Form:name"

    # A "restart": a new engine and storage over the same file.
    other = build_portal(settings, clock)
    try:
        again = DatabaseStorage(DialogStateStore(other))
        assert await again.get_state(key()) == "Form:name"
        assert await again.get_data(key()) == {"answer": "Sam", "n": 3, "nested": {"a": [1, 2]}}
        assert await again.update_data(key(), {"n": 4}) == {"answer": "Sam", "n": 4, "nested": {"a": [1, 2]}}
    finally:
        await other.close()


async def test_keys_are_separate_by_every_part(portal):
    storage = DatabaseStorage(DialogStateStore(portal))
    variants = [
        key(),
        key(chat_id=11),
        key(user_id=11),
        key(bot_id=2),
        key(thread_id=5),
        key(business_connection_id="bc"),
        key(destiny="aiogd_stack"),
    ]
    for i, k in enumerate(variants):
        await storage.set_data(k, {"i": i})
    for i, k in enumerate(variants):
        assert await storage.get_data(k) == {"i": i}


async def test_clearing_removes_the_row_and_unknown_keys_are_empty(portal):
    storage = DatabaseStorage(DialogStateStore(portal))
    assert await storage.get_state(key()) is None
    assert await storage.get_data(key()) == {}
    await storage.set_state(key(), "X:y")
    await storage.set_data(key(), {"a": 1})
    await storage.set_state(key(), None)
    await storage.set_data(key(), {})
    async with portal.db() as s:
        assert await s.scalar(select(func.count()).select_from(DialogState)) == 0


async def test_erase_chat_forgets_only_that_chat(portal):
    store = DialogStateStore(portal)
    storage = DatabaseStorage(store)
    await storage.set_data(key(chat_id=10, user_id=10), {"a": 1})
    await storage.set_data(key(chat_id=20, user_id=20), {"b": 2})
    assert await store.erase_chat(10) == 1
    assert await storage.get_data(key(chat_id=10, user_id=10)) == {}
    assert await storage.get_data(key(chat_id=20, user_id=20)) == {"b": 2}
