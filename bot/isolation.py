"""One chat's updates handled one at a time, in this process and, with Redis, across replicas.

Within one process, bot/updates.py already hands a chat's updates over in order, one at a time.
With several `web` replicas behind a load balancer, two updates of one chat can reach two
replicas at once; each would read the dialogue's state, change it and write it back, and one
change would be lost. So the whole handling of an update (reading the state, the handlers, and
the transaction that writes the state and marks the update done) runs under a lock per chat in
Redis when EHCP_REDIS_URL is set (the key and lock of aiogram's `RedisEventIsolation`, which is
also what the Dispatcher and aiogram-dialog are given).

- The lock lives `LOCK_TIMEOUT` seconds and is renewed every third of that while the update is
  handled, so a long handling (a 429 waited out) keeps it; a replica killed while holding it
  frees the chat when it runs out. An update that cannot get its chat within `LOCK_WAIT` (another
  replica is busy with it) is tried again later.
- If Redis cannot be reached, the update is handled without the cross-replica lock (this
  replica still takes its chats one at a time) and that is logged once: parents are answered
  through a Redis outage; two taps of one parent reaching two replicas in that time could be
  handled at once.
- aiogram's Dispatcher and aiogram-dialog take their own locks while a handler runs (on keys of
  the same chat). A lock asked for by the task that holds its chat is granted at once (Redis's
  locks are not re-entrant, and waiting for ourselves would never end); anyone else waits for
  the chat itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 30.0  # seconds a chat's lock in Redis lives without renewal (a killed replica)
LOCK_WAIT = 20.0  # seconds an update waits for its chat's lock before it is tried again later
REDIS_TIMEOUT = 2.0  # seconds for a Redis connection or answer: a hung Redis is an unreachable one


class ChatBusy(RuntimeError):
    """Another replica held the chat for longer than LOCK_WAIT: the update is tried again."""


def redis_client(url: str) -> Any:
    """A Redis client that gives up in seconds rather than hanging a replica on a half-open
    connection (so callers fall back, or try again)."""
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT,
                          health_check_interval=30)


class ChatIsolation(BaseEventIsolation):
    """Per chat, across processes when given Redis (see the module's docstring)."""

    def __init__(self, inner: BaseEventIsolation, *, redis: Any = None, key_builder: Any = None) -> None:
        self.inner = inner
        self.redis = redis
        self.key_builder = key_builder
        self._holders: dict[tuple[int, int], asyncio.Task[Any]] = {}
        self._alone = False  # Redis unreachable: said once

    @classmethod
    def from_settings(cls, redis_url: str | None) -> ChatIsolation:
        if not redis_url:
            return cls(SimpleEventIsolation())
        from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisEventIsolation

        redis = redis_client(redis_url)
        keys = DefaultKeyBuilder(prefix="ehcp", with_bot_id=True, with_destiny=True)
        inner = RedisEventIsolation(redis, key_builder=keys,
                                    lock_kwargs={"timeout": LOCK_TIMEOUT, "blocking_timeout": LOCK_WAIT})
        return cls(inner, redis=redis, key_builder=keys)

    @property
    def shared(self) -> bool:
        """Whether the lock holds across processes."""
        return self.redis is not None

    def _mine(self, bot_id: int, chat_id: int) -> bool:
        task = asyncio.current_task()
        return task is not None and self._holders.get((bot_id, chat_id)) is task

    @asynccontextmanager
    async def chat(self, bot_id: int, chat_id: int) -> AsyncGenerator[None, None]:
        """Hold the chat for the whole handling of one update (see the module's docstring).
        Raises ChatBusy if another replica keeps it past LOCK_WAIT."""
        if self.redis is None or self._mine(bot_id, chat_id):
            yield
            return
        from redis.exceptions import LockError, LockNotOwnedError, RedisError

        key = StorageKey(bot_id=bot_id, chat_id=chat_id, user_id=chat_id, destiny="chat")
        lock = self.redis.lock(self.key_builder.build(key, "lock"), timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT)
        try:
            got = await lock.acquire()
        except LockError:
            got = False
        except (RedisError, OSError) as exc:
            if not self._alone:
                log.warning("Redis unreachable (%s): updates are handled without the lock across replicas",
                            type(exc).__name__)
                self._alone = True
            yield
            return
        if not got:
            raise ChatBusy(f"chat {chat_id} was busy in another replica for {LOCK_WAIT:.0f} s")
        if self._alone:
            log.info("Redis reachable again: one chat at a time across replicas again")
            self._alone = False
        task = asyncio.current_task()
        assert task is not None
        self._holders[(bot_id, chat_id)] = task
        keeper = asyncio.create_task(self._keep(lock, chat_id))
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self._holders.pop((bot_id, chat_id), None)
            try:
                await lock.release()
            except LockNotOwnedError:  # it ran out (Redis emptied, or renewals failed)
                log.warning("chat %s: its lock ran out while an update was handled", chat_id)
            except (RedisError, OSError) as exc:  # it runs out by itself
                log.warning("chat %s: could not release its lock (%s)", chat_id, type(exc).__name__)

    @staticmethod
    async def _keep(lock: Any, chat_id: int) -> None:
        """Renew the lock every third of its life while the chat is held."""
        from redis.exceptions import RedisError

        while True:
            await asyncio.sleep(LOCK_TIMEOUT / 3)
            try:
                await lock.reacquire()
            except (RedisError, OSError) as exc:
                log.warning("chat %s: could not renew its lock (%s)", chat_id, type(exc).__name__)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        if self._mine(key.bot_id, key.chat_id):
            yield  # this task holds the whole chat already
            return
        if self.redis is not None:
            async with self.chat(key.bot_id, key.chat_id):  # anyone else waits for the chat itself
                yield
            return
        async with self.inner.lock(key):
            yield

    async def close(self) -> None:
        await self.inner.close()
        if self.redis is not None:
            await self.redis.aclose()


__all__ = ["ChatBusy", "ChatIsolation", "LOCK_TIMEOUT", "redis_client"]
