"""Telegram's flood limits, kept by everything in one process that sends: the outbox workers and
the bot's own answers while it handles an update.

One `TelegramPacer` per process holds the global rate (`delivery_rate` a second, all chats), the
next free moment of each chat (`delivery_rate_per_chat`) and the pause Telegram asks for with a
429. The outbox worker paces every send through it (its requests skip the middleware: see
`pre_paced`), since a notice to thousands of families is exactly what the limits are for.

`PacedRequests` is an aiogram request middleware for the bot's interactive answers. Telegram lets
a chat's answers come in a short burst (a parent taps, the bot edits a window and answers the
tap), so an answer goes at once, and marks its chat's next free moment for the outbox. A 429 is
waited out (`retry_after`) and the request made again, so a parent's answer is late rather than
lost; and for `FLOOD_MEMORY` seconds after any 429 every answer keeps strictly to the limits too
(its chat's turn and the global one), as the outbox always does.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from aiogram import Bot, methods
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)

PER_CHAT_MARGIN = 0.05  # seconds added to 1/rate between two sends to one chat
LIMITER_TOLERANCE = 0.005  # seconds a send may be let through late and keep its slot
MAX_RETRY_AFTER = 300.0  # a longer wait than this is not waited out by an interactive answer
MAX_429_TRIES = 5
RETRY_REDIS_AFTER = 5.0  # seconds a process paces alone before it asks an unreachable Redis again
FLOOD_MEMORY = 60.0  # seconds after a 429 during which the bot's answers keep strictly to the limits

# Methods Telegram counts against its message limits (the stand-in counts the first five).
PACED_METHODS = frozenset({
    "sendMessage", "sendDocument", "sendPhoto", "editMessageText", "editMessageCaption",
    "sendVideo", "sendAudio", "sendVoice", "sendAnimation", "sendSticker", "sendMediaGroup",
    "sendLocation", "sendContact", "sendPoll", "sendInvoice", "copyMessage", "copyMessages",
    "forwardMessage", "forwardMessages", "editMessageMedia",
})

_pre_paced: ContextVar[bool] = ContextVar("ehcp_pre_paced", default=False)


@contextlib.contextmanager
def pre_paced() -> Iterator[None]:
    """Requests made inside were paced by their caller (the outbox worker): the middleware lets
    them through untouched, and the caller handles a 429 itself."""
    token = _pre_paced.set(True)
    try:
        yield
    finally:
        _pre_paced.reset(token)


class RateLimiter:
    """Spaces calls 1/rate apart and can be paused.

    Callers queue on a lock (FIFO) and each is let through at its slot, so there is no burst
    after a stall of the event loop: any window of T seconds sees at most T*rate + 1 calls.
    `pause(s)` holds everyone back for s seconds: Telegram's flood control (429) is per bot.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    async def acquire(self) -> None:
        async with self._lock:
            await self._acquire_alone()

    async def _acquire_alone(self) -> None:
        while True:
            wait = max(self._next, self._paused_until) - time.monotonic()
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        # Anchor on the schedule when this wake-up is only a little late (no drift from
        # timer lateness), on the present when it is later (no catch-up burst).
        now = time.monotonic()
        base = self._next if 0 <= now - self._next < LIMITER_TOLERANCE else now
        self._next = base + self.interval

    async def close(self) -> None:
        """Nothing to let go (the shared limiter closes its connection)."""


# One slot of the global rate, for every process sending with one bot (Redis's clock, so the
# processes' clocks need not agree): the later of the next free slot and the end of a pause, or
# now; the next slot moves one interval on. Returns the microseconds to wait for the slot.
_TAKE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(redis.call('GET', KEYS[2]) or '0'), now)
redis.call('SET', KEYS[1], string.format('%.0f', slot + tonumber(ARGV[1])), 'PX', 60000)
return slot - now
"""
# Everyone waits until now + ARGV[1] microseconds (a 429: Telegram's flood control is per bot).
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', math.floor((until_ - now) / 1000) + 1000)
return 1
"""


class SharedRateLimiter(RateLimiter):
    """The global rate shared by every process sending with one bot token, through Redis.

    Each send takes the next slot from Redis (one atomic script), so two delivery workers and
    the web replicas' answers together keep to `rate`, not `rate` each. A pause (a 429) holds
    every process back. If Redis cannot be reached, this process paces on its own (at `rate`)
    and says so once, rather than stop sending."""

    def __init__(self, rate: float, redis: Any, key: str) -> None:
        super().__init__(rate)
        self.redis = redis
        self._keys = [f"{key}:next", f"{key}:pause"]
        self._take = redis.register_script(_TAKE_SLOT)
        self._pause = redis.register_script(_PAUSE)
        self._alone = False
        self._try_again_at = 0.0
        self._pending: set[asyncio.Task[Any]] = set()

    async def acquire(self) -> None:
        async with self._lock:
            while (wait := self._paused_until - time.monotonic()) > 0:  # noqa: ASYNC110 - a deadline, not an event
                await asyncio.sleep(wait)
            if self._alone and time.monotonic() < self._try_again_at:
                await self._acquire_alone()  # Redis was unreachable a moment ago: not asked on every send
                return
            try:
                wait_us = int(await self._take(keys=self._keys, args=[int(self.interval * 1_000_000)]))
            except Exception as exc:  # noqa: BLE001 - Redis unreachable: pace alone
                if not self._alone:
                    log.warning("Redis unreachable (%s): this process keeps to the flood limit on its own",
                                type(exc).__name__)
                    self._alone = True
                self._try_again_at = time.monotonic() + RETRY_REDIS_AFTER
                await self._acquire_alone()
                return
            if self._alone:
                log.info("Redis reachable again: the flood limit is shared again")
                self._alone = False
            if wait_us > 0:
                await asyncio.sleep(wait_us / 1_000_000)

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        with contextlib.suppress(RuntimeError):  # no running loop: this process's pause is enough
            task = asyncio.get_running_loop().create_task(self._share_pause(seconds))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _share_pause(self, seconds: float) -> None:
        try:
            await self._pause(keys=self._keys[1:], args=[int(seconds * 1_000_000)])
        except Exception as exc:  # noqa: BLE001 - this process waits anyway
            log.warning("could not share a flood-control pause through Redis (%s)", type(exc).__name__)

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.redis.aclose()


class TelegramPacer:
    """The process's flood-limit state, shared by every sender in it."""

    def __init__(self, rate: float, per_chat_rate: float, *, limiter: RateLimiter | None = None) -> None:
        self.limiter = limiter or RateLimiter(rate)
        self.chat_interval = 1.0 / per_chat_rate if per_chat_rate > 0 else 0.0
        self.chat_next: dict[int, float] = {}  # monotonic time a chat may next be sent to
        self.flood_until = 0.0  # monotonic time until which answers are paced strictly

    @property
    def strict(self) -> bool:
        """Telegram said 429 a moment ago: every send keeps strictly to the limits for now."""
        return time.monotonic() < self.flood_until

    async def wait_chat(self, chat_id: int) -> None:
        while (wait := self.chat_next.get(chat_id, 0.0) - time.monotonic()) > 0:  # noqa: ASYNC110 - a deadline that may move later, not an event
            await asyncio.sleep(wait)

    def sent(self, chat_id: int, started: float) -> None:
        """A send to the chat left at `started` and its answer is back: the chat's next slot is
        1/rate + margin after it left, and 1/rate after the answer came (so the server sees the
        gap whatever the network did)."""
        done = time.monotonic()
        self.chat_next[chat_id] = max(
            self.chat_next.get(chat_id, 0.0),
            started + self.chat_interval + PER_CHAT_MARGIN,
            done + self.chat_interval,
        )

    def flood(self, retry_after: float, chat_id: int | None = None) -> None:
        """Telegram said 429: everyone waits (its flood control is per bot), the chat too."""
        self.limiter.pause(retry_after)
        self.flood_until = max(self.flood_until, time.monotonic() + retry_after + FLOOD_MEMORY)
        if chat_id is not None:
            self.chat_next[chat_id] = max(self.chat_next.get(chat_id, 0.0), self.limiter.paused_until)

    @property
    def shared(self) -> bool:
        """Whether the global rate is shared with other processes (Redis)."""
        return isinstance(self.limiter, SharedRateLimiter)

    async def close(self) -> None:
        await self.limiter.close()

    def forget_idle(self) -> None:
        now = time.monotonic()
        for chat_id in [c for c, t in self.chat_next.items() if t < now]:
            del self.chat_next[chat_id]


def _chat_of(method: TelegramMethod[Any]) -> int | None:
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None


class PacedRequests(BaseRequestMiddleware):
    """aiogram request middleware: the bot's answers keep to the pacer and outlast a 429."""

    def __init__(self, pacer: TelegramPacer) -> None:
        self.pacer = pacer

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Response[Any]:
        if _pre_paced.get():
            return await make_request(bot, method)
        paced = method.__api_method__ in PACED_METHODS
        chat_id = _chat_of(method) if paced else None
        tries = 0
        while True:
            if paced and self.pacer.strict:
                if chat_id is not None:
                    await self.pacer.wait_chat(chat_id)
                await self.pacer.limiter.acquire()
            started = time.monotonic()
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                tries += 1
                if tries >= MAX_429_TRIES or exc.retry_after > MAX_RETRY_AFTER:
                    log.error("%s to chat %s: flood control again after %s waits; given up",
                              method.__api_method__, chat_id, tries)
                    raise
                self.pacer.flood(exc.retry_after, chat_id)
                log.warning("%s to chat %s: flood control, waiting %ss", method.__api_method__, chat_id,
                            exc.retry_after)
                if not paced:  # the pacer does not hold it back: wait here
                    await asyncio.sleep(exc.retry_after)
            finally:
                if chat_id is not None:
                    self.pacer.sent(chat_id, started)


def attach(bot: Bot, pacer: TelegramPacer) -> Bot:
    """Put the pacer in front of every request `bot` makes (once), and keep the answers' types."""
    if not any(isinstance(m, PacedRequests) for m in bot.session.middleware):
        bot.session.middleware(PacedRequests(pacer))
    bot.session.ehcp_answer_types = answer_types()  # type: ignore[attr-defined]
    return bot


@functools.cache
def answer_types() -> tuple[type, ...]:
    """aiogram reads every answer as `Response[<the method's result type>]`, and pydantic keeps
    such a model only while something refers to it: without this, each request built its
    model anew (a quarter of a millisecond, and a tenth of a busy bot's time). Made once."""
    out = []
    for name in dir(methods):
        kind = getattr(methods, name)
        returning = getattr(kind, "__returning__", None)
        if isinstance(kind, type) and issubclass(kind, TelegramMethod) and kind is not TelegramMethod:
            try:
                out.append(Response[returning])
            except Exception:  # noqa: BLE001 - a result type pydantic cannot take: built when used
                continue
    return tuple(out)


__all__ = ["PACED_METHODS", "PacedRequests", "RateLimiter", "SharedRateLimiter", "TelegramPacer", "attach", "pre_paced"]
