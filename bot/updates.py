"""Receiving updates: store first, then process; per chat in order, chats in parallel.

aiogram's own polling confirms an update (by asking for the next offset) while it may still be
in flight, and its webhook answers before processing: a crash then loses the update. Here every
update is written to the inbox before it is confirmed, handled from there, and marked done when
its handler returns. On start, whatever was stored but not handled is handled first. A repeated
update_id is dropped by the inbox's key.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update

from core.inbox import Stored, UpdateInbox

log = logging.getLogger(__name__)


def chat_of(payload: dict[str, Any]) -> int | None:
    """The chat an update belongs to, for ordering (None: no chat, e.g. an inline query)."""
    for field in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member"):
        if field in payload:
            return payload[field].get("chat", {}).get("id")
    if "callback_query" in payload:
        cq = payload["callback_query"]
        msg = cq.get("message") or {}
        return msg.get("chat", {}).get("id") or cq.get("from", {}).get("id")
    return None


class UpdateProcessor:
    """Feeds stored updates to the Dispatcher: one chat's updates in order, chats concurrently."""

    def __init__(self, bot: Bot, dp: Dispatcher, inbox: UpdateInbox, *, concurrency: int = 32) -> None:
        self.bot = bot
        self.dp = dp
        self.inbox = inbox
        self._sem = asyncio.Semaphore(concurrency)
        self._tails: dict[int | None, asyncio.Task[None]] = {}

    def submit(self, stored: Stored) -> asyncio.Task[None]:
        previous = self._tails.get(stored.chat_id)
        task = asyncio.create_task(self._run_after(previous, stored))
        self._tails[stored.chat_id] = task
        task.add_done_callback(lambda t, key=stored.chat_id: self._forget(key, t))
        return task

    def _forget(self, key: int | None, task: asyncio.Task[None]) -> None:
        if self._tails.get(key) is task:
            del self._tails[key]

    async def _run_after(self, previous: asyncio.Task[None] | None, stored: Stored) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        async with self._sem:
            await self.process(stored)

    async def process(self, stored: Stored) -> None:
        update = Update.model_validate(stored.payload, context={"bot": self.bot})
        try:
            await self.dp.feed_update(self.bot, update, **self.dp.workflow_data)
        except Exception:
            log.exception("update %s failed", stored.update_id)
            if await self.inbox.mark_failed_attempt(stored.update_id):
                return  # left pending: handled again on the next start or backlog pass
            log.error("update %s given up after repeated failures", stored.update_id)
            return
        await self.inbox.mark_processed(stored.update_id)

    async def drain(self) -> None:
        while self._tails:
            await asyncio.wait(list(self._tails.values()))

    async def backlog(self) -> int:
        """Handle what was stored but not processed (after a crash or a failed attempt)."""
        pending = await self.inbox.pending()
        for stored in pending:
            self.submit(stored)
        return len(pending)


async def feed_raw(processor: UpdateProcessor, payload: dict[str, Any]) -> bool:
    """Store one raw update (from a webhook) and schedule it; False if it was a repeat."""
    uid = int(payload["update_id"])
    new = await processor.inbox.store([(uid, chat_of(payload), payload)])
    if not new:
        return False
    processor.submit(Stored(uid, chat_of(payload), payload, 0))
    return True


async def run_polling(
    bot: Bot,
    dp: Dispatcher,
    inbox: UpdateInbox,
    stop: asyncio.Event,
    *,
    poll_timeout: int = 30,
) -> None:
    """Long polling with store-before-confirm. Runs until `stop` is set."""
    processor = UpdateProcessor(bot, dp, inbox)
    workflow = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    await bot.delete_webhook(drop_pending_updates=False)
    await dp.emit_startup(bot=bot, **workflow)
    try:
        await processor.backlog()
        # aiogram-dialog adds an internal update type of its own; Telegram knows only its own.
        allowed = [t for t in dp.resolve_used_update_types() if not t.startswith("aiogd")]
        offset: int | None = None
        backoff = 1.0
        while not stop.is_set():
            fetch = asyncio.create_task(
                bot.get_updates(
                    offset=offset, timeout=poll_timeout, allowed_updates=allowed,
                    request_timeout=poll_timeout + 10,
                )
            )
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if fetch not in done:
                fetch.cancel()
                break
            try:
                updates = fetch.result()
            except TelegramRetryAfter as exc:
                await _wait(stop, exc.retry_after)
                continue
            except (TelegramNetworkError, TelegramServerError) as exc:
                log.warning("getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, backoff)
                await _wait(stop, backoff)
                backoff = min(backoff * 2, 30)
                continue
            backoff = 1.0
            if not updates:
                continue
            rows = []
            for u in updates:
                payload = u.model_dump(mode="json", exclude_none=True, by_alias=True, fallback=_unset)
                rows.append((u.update_id, chat_of(payload), payload))
            new = set(await inbox.store(rows))
            offset = updates[-1].update_id + 1  # safe: every one of them is stored
            for uid, chat_id, payload in rows:
                if uid in new:
                    processor.submit(Stored(uid, chat_id, payload, 0))
        await processor.drain()
    finally:
        await dp.emit_shutdown(bot=bot, **workflow)


def _unset(value: object) -> None:
    """aiogram fills fields missing from Telegram's JSON (link_preview_options inside a message a
    button belongs to, for one) with `Default` markers that pydantic cannot write out: they were
    not in the update, so they are stored as absent."""
    return None


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
