"""One chat's updates handled one at a time, in this process and, with Redis, across replicas.

Within one process, bot/updates.py already hands a chat's updates over in order, one at a time.
With several `web` replicas behind a load balancer, two updates of one chat can reach two
replicas at once; each would read the dialogue's state, change it and write it back, and one
change would be lost. So the whole handling of an update (reading the state, the handlers, and
the transaction that writes the state and marks the update done) runs under a lock per chat:
aiogram's `RedisEventIsolation` when EHCP_REDIS_URL is set, its in-process
`SimpleEventIsolation` otherwise.

aiogram's Dispatcher and aiogram-dialog take their own locks while a handler runs (on keys of the
same chat). They are given this same object: a lock asked for by the task that already holds
its chat's lock is granted at once (Redis's locks are not re-entrant, and waiting for ourselves
would never end); anyone else (aiogram-dialog's background updates, say) waits for the chat.

A replica killed while holding a chat's lock frees it when the lock's timeout runs out
(`LOCK_TIMEOUT`); until then that chat's next update waits (and is tried again), others go on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 30  # seconds a chat's lock in Redis lives without its holder (a killed replica)
LOCK_WAIT = 20  # seconds an update waits for its chat's lock before it is tried again later

_held: ContextVar[frozenset[tuple[int, int]]] = ContextVar("ehcp_chats_held", default=frozenset())


class ChatIsolation(BaseEventIsolation):
    """Per chat, across processes when `inner` is Redis's (see the module's docstring)."""

    def __init__(self, inner: BaseEventIsolation, *, redis: object | None = None) -> None:
        self.inner = inner
        self.redis = redis  # the client, when Redis: closed with this object

    @classmethod
    def from_settings(cls, redis_url: str | None) -> ChatIsolation:
        if not redis_url:
            return cls(SimpleEventIsolation())
        from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisEventIsolation
        from redis.asyncio import Redis

        redis = Redis.from_url(redis_url)
        inner = RedisEventIsolation(
            redis,
            key_builder=DefaultKeyBuilder(prefix="ehcp", with_destiny=True),
            lock_kwargs={"timeout": LOCK_TIMEOUT, "blocking_timeout": LOCK_WAIT},
        )
        return cls(inner, redis=redis)

    @property
    def shared(self) -> bool:
        """Whether the lock holds across processes."""
        return self.redis is not None

    @asynccontextmanager
    async def chat(self, bot_id: int, chat_id: int) -> AsyncGenerator[None, None]:
        """Hold the chat for the whole handling of one update."""
        held = _held.get()
        if (bot_id, chat_id) in held:
            yield
            return
        key = StorageKey(bot_id=bot_id, chat_id=chat_id, user_id=chat_id, destiny="chat")
        try:
            async with self.inner.lock(key):
                token = _held.set(held | {(bot_id, chat_id)})
                try:
                    yield
                finally:
                    _held.reset(token)
        except Exception as exc:
            if type(exc).__name__ != "LockNotOwnedError":
                raise
            # The handling outlived the lock's timeout: done, but another replica may have
            # started on the chat meanwhile. Said, so an operator can raise LOCK_TIMEOUT.
            log.warning("chat %s: an update's handling outlasted its %s s lock", chat_id, LOCK_TIMEOUT)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        if (key.bot_id, key.chat_id) in _held.get():
            yield  # this task holds the whole chat already
            return
        async with self.inner.lock(key):
            yield

    async def close(self) -> None:
        await self.inner.close()
        if self.redis is not None:
            await self.redis.aclose()  # type: ignore[attr-defined]


__all__ = ["ChatIsolation", "LOCK_TIMEOUT"]
