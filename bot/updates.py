"""Receiving updates: store first, then process; per chat in order, chats in parallel.

aiogram's own polling confirms an update (by asking for the next offset) while it may still be
in flight, its webhook answers before processing, and one update it cannot read stops
`start_polling` altogether. Here:

- `getUpdates` is read as plain JSON, and every update is written to the inbox exactly as
  Telegram sent it before it is confirmed. A repeated `update_id` (in the same batch, a later
  batch, or after a restart) is dropped by the inbox.
- Each update is then read (validated) on its own: one that cannot be read is marked failed,
  with its JSON and the reason, logged once, and never fetched again; the others go on.
- An update whose handling fails on a busy database (or another passing error) is tried again
  in the running process, with backoff, a bounded number of times; one that keeps failing is
  marked failed. Marking an update done is retried until the database takes it.
- Polling itself is supervised: a network error, an unreadable answer or a fault of its own
  never ends the process (the caseworker API, the pages and delivery run beside it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from pydantic import ValidationError
from redis.exceptions import RedisError

from bot.isolation import ChatBusy
from bot.storage import DatabaseStorage, Held
from bot.texts import something_went_wrong
from core.audit import reads_collected, write_reads
from core.db import is_transient
from core.inbox import Stored, UpdateInbox
from ops.metrics import NOT_COUNTED, Counting

log = logging.getLogger(__name__)

TRANSIENT_TRIES = 6  # tries of an update failing on a busy database or the network
OTHER_TRIES = 2  # tries of an update failing for any other reason (a fault in a handler)
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)



class GetRawUpdates(GetUpdates):
    """getUpdates, answered as plain JSON objects: each update is read on its own later, so one
    that aiogram cannot read does not take the others (and the whole batch) with it."""

    __returning__ = list[dict[str, Any]]


def chat_of(payload: dict[str, Any]) -> int | None:
    """The chat an update belongs to, for ordering (None: no chat, e.g. an inline query, or an
    update too odd to tell)."""

    def chat_id(obj: Any) -> int | None:
        if not isinstance(obj, dict):
            return None
        chat = obj.get("chat")
        value = chat.get("id") if isinstance(chat, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    for field in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member"):
        if field in payload:
            return chat_id(payload[field])
    cq = payload.get("callback_query")
    if isinstance(cq, dict):
        found = chat_id(cq.get("message"))
        if found is None and isinstance(cq.get("from"), dict):
            uid = cq["from"].get("id")
            found = uid if isinstance(uid, int) and not isinstance(uid, bool) else None
        return found
    return None


def update_id_of(raw: Any) -> int | None:
    uid = raw.get("update_id") if isinstance(raw, dict) else None
    return uid if isinstance(uid, int) and not isinstance(uid, bool) and uid >= 0 else None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False, include_input=False)[:3]
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in first)
        return f"cannot be read: {where}"
    return f"{type(exc).__name__}: {exc}"[:500]


class UpdateProcessor:
    """Feeds stored updates to the Dispatcher: one chat's updates in order, chats concurrently."""

    def __init__(self, bot: Bot, dp: Dispatcher, inbox: UpdateInbox, *, concurrency: int = 32,
                 metrics: Counting | None = None) -> None:
        self.bot = bot
        self.dp = dp
        self.inbox = inbox
        self.metrics = metrics if metrics is not None else NOT_COUNTED  # ops.Metrics: received, handled
        self._sem = asyncio.Semaphore(concurrency)
        self._tails: dict[int | None, asyncio.Task[None]] = {}
        self._received: dict[int, float] = {}

    def submit(self, stored: Stored) -> asyncio.Task[None]:
        self._received[stored.update_id] = time.monotonic()
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
            try:
                await self.process(stored)
            except Exception:  # the inbox could not be written even after retries
                log.exception("update %s: could not record its outcome; it is handled again on the next start",
                              stored.update_id)

    async def process(self, stored: Stored) -> None:
        uid = stored.update_id
        try:
            update = Update.model_validate(stored.payload, context={"bot": self.bot})
        except ValidationError as exc:
            log.error("update %s cannot be read and is kept as failed (%s)", uid, _reason(exc))
            await self.inbox.mark_failed(uid, _reason(exc))
            self.metrics.handled("failed")
            return
        tries = stored.attempts
        received = self._received.pop(uid, None)
        arrived = received if received is not None else time.monotonic()  # for the handling time
        storage = self.dp.storage if isinstance(self.dp.storage, DatabaseStorage) else None
        shared = self._shared()
        busy = 0
        while True:
            handled = False
            try:
                async with self._chat_held(stored.chat_id):
                    # With several replicas, another may have handled it while this one waited
                    # for the chat (a backlog at start takes every pending update).
                    if shared and await self.inbox.load(uid) is None:
                        return
                    write = await self._handle(update, storage, received)
                    handled = True
                    # Marked done (with the dialogue's state) before the chat is let go; retried
                    # inside until the database takes it, never handled again for its sake.
                    await self.inbox.finish(uid, write)
            except ChatBusy:
                # Another replica is busy with the chat: not a failure of this update; wait.
                busy += 1
                log.info("update %s: its chat is busy in another replica; waiting", uid)
                await asyncio.sleep(min(2.0 * busy, 30.0))
                continue
            except Exception as exc:
                if handled:
                    raise
                tries = await self.inbox.record_attempt(uid)
                if tries == 0:  # its record is gone (the chat's data was deleted meanwhile)
                    log.warning("update %s failed (%s) and its record is gone", uid, type(exc).__name__)
                    return
                limit = TRANSIENT_TRIES if passing(exc) else OTHER_TRIES
                if tries < limit:
                    delay = RETRY_DELAYS[min(tries - 1, len(RETRY_DELAYS) - 1)]
                    log.warning("update %s failed (%s); trying again in %.1f s", uid, type(exc).__name__, delay)
                    self.metrics.handled("retried")
                    await asyncio.sleep(delay)
                    continue
                log.error("update %s failed %s times and is kept as failed", uid, tries, exc_info=exc)
                await self.inbox.mark_failed(uid, _reason(exc))
                await self._apologise(update)
                self.metrics.handled("failed", time.monotonic() - arrived)
                return
            self.metrics.handled("done", time.monotonic() - arrived)
            return

    def _shared(self) -> bool:
        isolation = self.dp.workflow_data.get("chat_isolation")
        return isolation is not None and isolation.shared

    def _chat_held(self, chat_id: int | None) -> contextlib.AbstractAsyncContextManager[None]:
        """The chat's lock for the whole handling (bot/isolation.py): across replicas with Redis."""
        isolation = self.dp.workflow_data.get("chat_isolation")
        if isolation is None or not isolation.shared or chat_id is None:
            return contextlib.nullcontext()  # one process: its chats' updates are already in order
        return isolation.chat(self.bot.id, chat_id)

    async def _handle(self, update: Update, storage: DatabaseStorage | None, received: float | None) -> Any:
        """Feed the update to the Dispatcher; returns what to write with it marked done.

        The dialogue's state is held in memory while the update is handled and the audit
        entries of its reads collected: both are written once, with the update marked done
        (a failed try writes neither)."""
        with contextlib.ExitStack() as hold:
            held = hold.enter_context(storage.held()) if storage is not None else None
            reads = hold.enter_context(reads_collected())
            # `update_received`: when it reached this process (monotonic), for handlers that
            # tell a double tap from a press made after the first one's answer was shown.
            await self.dp.feed_update(self.bot, update, **self.dp.workflow_data, update_received=received)
        return _also(storage, held, reads)

    async def _apologise(self, update: Update) -> None:
        """The parent is told plainly that it did not work, once, so a tap does not just spin."""
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(something_went_wrong(), show_alert=True)
            elif update.message is not None and update.message.chat.type == "private":
                await update.message.answer(something_went_wrong())
        except Exception:  # noqa: BLE001 - too late to answer, or Telegram unreachable: nothing more to do
            log.info("update %s: could not tell the parent it failed", update.update_id)

    async def drain(self) -> None:
        while self._tails:
            await asyncio.wait(list(self._tails.values()))

    async def backlog(self) -> int:
        """Handle what was stored but not processed (after a crash, or while polling restarted)."""
        pending = await self.inbox.pending()
        busy = set(self._tails)
        for stored in pending:
            if stored.chat_id in busy:
                continue  # that chat's updates are being handled: they are already queued
            self.submit(stored)
        return len(pending)


def _also(storage: DatabaseStorage | None, held: Held | None, reads: list[Any]) -> Any:
    async def write(session: Any) -> None:
        if storage is not None and held is not None:
            await storage.write(session, held)
        await write_reads(session, reads)

    return write


def passing(exc: BaseException) -> bool:
    """An error that may well not happen again: a busy database, Telegram or the network."""
    return is_transient(exc) or isinstance(exc, (TelegramNetworkError, TelegramServerError, TelegramRetryAfter,
                                                 TimeoutError, OSError, RedisError))


async def feed_raw(processor: UpdateProcessor, payload: dict[str, Any]) -> bool:
    """Store one raw update (from a webhook) and schedule it; False if it was a repeat."""
    uid = update_id_of(payload)
    if uid is None:
        log.error("an update without a usable update_id was dropped")
        return False
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
    metrics: Counting | None = None,
) -> None:
    """Long polling with store-before-confirm. Runs until `stop` is set, whatever Telegram, the
    network or the database do meanwhile (each failure is logged and waited out)."""
    processor = UpdateProcessor(bot, dp, inbox, metrics=metrics)
    workflow = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    started = False
    backoff = 1.0
    try:
        while not stop.is_set():
            try:
                if not started:
                    await bot.delete_webhook(drop_pending_updates=False)
                    await dp.emit_startup(bot=bot, **workflow)
                    started = True
                await processor.backlog()  # what an earlier run (or a failed record) left pending
                await _poll(bot, dp, processor, stop, poll_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - supervised: log, wait, go on
                log.error("polling stopped by %s; starting again in %.0f s", type(exc).__name__, backoff,
                          exc_info=not isinstance(exc, (TelegramNetworkError, TelegramServerError)))
                await _wait(stop, backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
        await processor.drain()
    finally:
        if started:
            try:
                await dp.emit_shutdown(bot=bot, **workflow)
            except Exception:  # noqa: BLE001 - shutting down anyway
                log.warning("the bot's shutdown hooks failed", exc_info=True)


async def _poll(bot: Bot, dp: Dispatcher, processor: UpdateProcessor, stop: asyncio.Event, poll_timeout: int) -> None:
    """Fetch, store, confirm (by the next offset) and hand over, until `stop` is set."""
    inbox = processor.inbox
    # aiogram-dialog adds an internal update type of its own; Telegram knows only its own.
    allowed = [t for t in dp.resolve_used_update_types() if not t.startswith("aiogd")]
    offset: int | None = None
    backoff = 1.0
    while not stop.is_set():
        fetch = asyncio.create_task(
            bot(GetRawUpdates(offset=offset, timeout=poll_timeout, allowed_updates=allowed),
                request_timeout=poll_timeout + 10)
        )
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if fetch not in done:
            fetch.cancel()
            return
        try:
            raw_updates = fetch.result()
        except TelegramRetryAfter as exc:
            await _wait(stop, exc.retry_after)
            continue
        except Exception as exc:  # noqa: BLE001 - network, 5xx, an answer that is not JSON...
            log.warning("getUpdates failed (%s); trying again in %.0f s", type(exc).__name__, backoff)
            await _wait(stop, backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        backoff = 1.0
        rows = []
        for raw in raw_updates:
            uid = update_id_of(raw)
            if uid is None:
                log.error("getUpdates gave an update without a usable update_id; it was dropped")
                continue
            rows.append((uid, chat_of(raw), raw))
        if not rows:
            continue
        new = set(await inbox.store(rows))  # retried through a busy database; raises only if it stays down
        offset = max(uid for uid, _, _ in rows) + 1  # safe: every one of them is stored
        for uid, chat_id, payload in rows:
            if uid in new:
                new.discard(uid)  # the same update_id twice in this batch: handled once
                processor.metrics.received("polling")
                processor.submit(Stored(uid, chat_id, payload, 0))


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
